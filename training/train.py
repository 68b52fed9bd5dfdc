"""Train the MRT encoder/decoder (nested-dropout coarse-to-fine tokens over a WebP base).

    python training/train.py --run training/runs/main --minutes 60
Resumable: rerunning with the same --run continues from <run>/last.pt. The best
checkpoint on the held-out crops is <run>/best.pt. Logs: <run>/log.jsonl.
--data SET (or MRT_DATA) picks the training set (training/datasets.py: research, open, open-sa);
checkpoints record the data of their whole lineage (this run's set, and that of the checkpoint,
PCA or real tokens it starts from), which export.py writes into the manifest.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
import mrt  # noqa: E402

VAL_KS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256]


def rate_term(bpp, args, k):
    """dB charged for a prefix's bits. 'lin': lam * bpp (one slope everywhere). 'log':
    beta * ln(bpp + b0): a slope of beta / (bpp + b0) dB per bpp, steep for short prefixes and
    shallow for long ones, like the thumbnail bar (~1.2 dB per doubling of bytes, beta = 1.2 /
    ln 2); b0 stands for the placeholder's bits (256 B on 768x512 = 0.0052 bpp)."""
    if args.rate_loss == 'log':
        return args.beta * torch.log(bpp + args.b0) if isinstance(bpp, torch.Tensor) else args.beta * math.log(bpp + args.b0)
    return lam_of(k, args) * bpp


def _gauss(size=11, sigma=1.5):
    g = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-g ** 2 / (2 * sigma ** 2))
    return g / g.sum()


def ms_ssim(y, x, scales=3):
    """Per-sample multi-scale SSIM of RGB images in [0, 1] ([N, 3, H, W], H and W >= 11 * 2^(scales-1)):
    Wang et al.'s form with an 11-tap Gaussian (sigma 1.5), the first `scales` of the standard
    weights renormalised, contrast-structure terms clamped at 0 (pytorch-msssim's `normalize`)."""
    w = torch.tensor([0.0448, 0.2856, 0.3001, 0.2363, 0.1333][:scales])
    w = w / w.sum()
    g = _gauss().to(y)
    c = y.shape[1]
    gh = g.view(1, 1, 1, -1).repeat(c, 1, 1, 1)
    gv = g.view(1, 1, -1, 1).repeat(c, 1, 1, 1)
    blur = lambda t: torch.nn.functional.conv2d(torch.nn.functional.conv2d(t, gh, groups=c), gv, groups=c)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    out = torch.ones(y.shape[0], device=y.device)
    for i in range(scales):
        mx, my = blur(x), blur(y)
        sxx = blur(x * x) - mx * mx
        syy = blur(y * y) - my * my
        sxy = blur(x * y) - mx * my
        cs = (2 * sxy + c2) / (sxx + syy + c2)
        if i < scales - 1:
            out = out * torch.relu(cs.mean((1, 2, 3))) ** w[i]
            x = torch.nn.functional.avg_pool2d(x, 2)
            y = torch.nn.functional.avg_pool2d(y, 2)
        else:
            lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
            out = out * torch.relu((lum * cs).mean((1, 2, 3))) ** w[i]
    return out


def lam_of(k, args):
    """lam per prefix length k (a tensor of per-sample k, or an int): --lam-short for prefixes of
    at most --short-k layers (a steeper slope where the bar is steep), --lam beyond."""
    if args.lam_short is None:
        return args.lam
    if isinstance(k, torch.Tensor):
        return torch.where(k <= args.short_k, args.lam_short, args.lam)
    return args.lam_short if k <= args.short_k else args.lam


def evaluate(enc, dec, rate, val, T, L, args, bs=8):
    enc.eval(), dec.eval()
    xs, bs_ = val
    # every listed prefix length up to T, and T itself (the layers a grown model adds count too)
    res = {k: [0.0, 0.0] for k in sorted({k for k in VAL_KS if k <= T} | {T})}
    with torch.no_grad():
        for i in range(0, len(xs), bs):
            x, b = xs[i:i + bs], bs_[i:i + bs]
            z = enc(x, b)
            _, v = mrt.fsq(z, L)
            bits = rate.bits(v)
            for k in res:
                m = torch.zeros_like(v)
                m[:, :k] = 1
                y = dec(v * m, m, b)
                res[k][0] += mrt.psnr(y, x).sum().item()
                res[k][1] += ((bits * m).sum((1, 2, 3)) / (x.shape[2] * x.shape[3])).sum().item()
    enc.train(), dec.train()
    n = len(xs)
    out = {k: (p / n, r / n) for k, (p, r) in res.items()}
    # objective: mean over prefix lengths of (-PSNR + rate term), lower is better
    obj = float(np.mean([-p + rate_term(r, args, k) for k, (p, r) in out.items()]))
    return out, obj


def coarse_inputs(z, T, L, K, cv, us, rng, partial=0.3, cmask=1.0, k=None):
    """Decoder inputs for stream states of the coarse-first order (container 2.8; docs/design.md
    "Coarse pass"): us[i] = stream layers received (K coarse, then K refinement, then the rest).
    A token known by its coarse trit c = floor(k / 3) enters as (c - 1) * cv levels from the
    centre, as src/codec/regenerate.ts tokensToZ gives it (straight-through gradient to z), with
    mask value cmask (1: as an exact token; < 1 lets the decoder tell the two apart, the model's
    manifest `coarseMask`). Tokens `k` given (the real encoder's, --real-tokens): z is ignored.
    Returns (decoder z, mask, exact mask, coarse-only mask)."""
    if k is None:
        k, v = mrt.fsq(z, L)
    else:
        z = v = k.float() / ((L - 1) / 2) - 1
    # a state is a stream length u, or (exact layers, layers known at least coarsely) directly
    st = [u if isinstance(u, tuple) else mrt.coarse_state(u, K) for u in us]
    ex = mrt.make_mask([e for e, _ in st], T, z.shape[2], z.shape[3], rng, partial)
    co = torch.zeros_like(ex)
    for i, (e, c) in enumerate(st):
        if c > e:
            co[i, e:c] = 1 - ex[i, e:c]
    cval = (torch.div(k, 3, rounding_mode='floor') - 1).float() * (cv / ((L - 1) / 2))
    cval = z + (cval - z).detach()
    return v * ex + cval * co, ex + co * cmask, ex, co


COARSE_VAL_US = [0, 1, 2, 4, 8, 16, 24, 32, 40, 48, 64, 96, 128, 256]


def parse_focus(s):
    """--focus LO:HI:FRAC -> (lo, hi, frac)."""
    lo, hi, frac = s.split(':')
    lo, hi, frac = int(lo), int(hi), float(frac)
    if not (0 <= lo <= hi and 0 < frac <= 1):
        raise argparse.ArgumentTypeError(f'--focus needs 0 <= LO <= HI and 0 < FRAC <= 1, got {s}')
    return lo, hi, frac


def coarse_val_states(T, K, deploy):
    """The stream lengths the held-out set is decoded at: COARSE_VAL_US and all, with `deploy`
    also the refinement and later states (Kodak's 2-8 KB) that --states deploy trains on."""
    us = {u for u in COARSE_VAL_US if u <= T + K} | {T + K}
    if deploy:
        us |= {u for u in (K + 32, K + 64, K + 128, K + 192, K + 320) if u < T + K}
    return sorted(us)


def state_layers(u):
    """The prefix length (layers) the rate term charges a state: its stream layers u, or for a
    layer-major state (k, k) its k exact layers."""
    return u[0] if isinstance(u, tuple) else u


def evaluate_coarse(enc, dec, rate, val, T, L, args, bs=8):
    """PSNR and rate-model bpp over coarse-first stream states of whole layers; objective as
    evaluate()'s, with the state's stream layers as the prefix length."""
    enc.eval(), dec.eval()
    xs, bs_ = val
    K = args.coarse
    us = coarse_val_states(T, K, args.states == 'deploy')
    if args.exact_frac > 0:  # the layer-major states it also trains on
        us += [(k, k) for k in (16, 32, 64) if k < T]
    res = {u: [0.0, 0.0] for u in us}
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for i in range(0, len(xs), bs):
            x, b = xs[i:i + bs], bs_[i:i + bs]
            z = enc(x, b)
            for u in us:
                vin, m, ex, co = coarse_inputs(z, T, L, K, args.coarse_value, [u] * len(x), rng, partial=0, cmask=args.coarse_mask)
                res[u][0] += mrt.psnr(dec(vin, m, b), x).sum().item()
                bits = (rate.bits(vin) * ex + rate.coarse_bits(vin) * co).sum((1, 2, 3))
                res[u][1] += (bits / (x.shape[2] * x.shape[3])).sum().item()
    enc.train(), dec.train()
    n = len(xs)
    obj = float(np.mean([-p / n + rate_term(r / n, args, state_layers(u)) for u, (p, r) in res.items()]))
    return {(f'e{u[0]}' if isinstance(u, tuple) else u): (p / n, r / n) for u, (p, r) in res.items()}, obj


def evaluate_real(dec, val, T, L, args, bs=8):
    """--real-tokens: PSNR of held-out crops decoded from the real encoder's tokens at the
    coarse-first stream states evaluate_coarse uses; objective: mean -PSNR over them."""
    dec.eval()
    xs, bs_, ks = val
    K = args.coarse
    us = coarse_val_states(T, K, True)
    res = {u: 0.0 for u in us}
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for i in range(0, len(xs), bs):
            x, b, k = xs[i:i + bs], bs_[i:i + bs], ks[i:i + bs]
            for u in us:
                vin, m, _, _ = coarse_inputs(None, T, L, K, args.coarse_value, [u] * len(x), rng, partial=0, cmask=args.coarse_mask, k=k)
                res[u] += mrt.psnr(dec(vin, m, b), x).sum().item()
    dec.train()
    out = {u: p / len(xs) for u, p in res.items()}
    return out, float(np.mean([-p for p in out.values()]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', default=os.path.join(mrt.RUNS, 'main'))
    ap.add_argument('--minutes', type=float, default=0)
    ap.add_argument('--steps', type=int, default=0, help='stop at this global step (0: no limit)')
    ap.add_argument('--crop', type=int, default=128)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=3e-4)
    ap.add_argument('--lr-final', type=float, default=None, help='cosine-decay lr to this by --steps')
    ap.add_argument('--lam', type=float, default=20.0, help='rate weight, dB per bit/pixel (--rate-loss lin)')
    ap.add_argument('--rate-loss', default='lin', choices=['lin', 'log'], help='see rate_term()')
    ap.add_argument('--lam-short', type=float, default=None, help='lam for prefixes of <= --short-k layers (lin)')
    ap.add_argument('--short-k', type=int, default=64)
    ap.add_argument('--beta', type=float, default=1.73, help='dB per e-fold of bits (--rate-loss log)')
    ap.add_argument('--b0', type=float, default=0.0052, help='bpp added inside the log (--rate-loss log)')
    ap.add_argument('--T', type=int, default=64)
    ap.add_argument('--L', type=int, default=9)
    ap.add_argument('--val-every', type=int, default=500)
    ap.add_argument('--ckpt-minutes', type=float, default=5)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--init', default=None, help='start weights from this checkpoint (new run)')
    ap.add_argument('--grow', default=None, help='start from this smaller-T --lin checkpoint (new run; needs --pca)')
    ap.add_argument('--add-res32', type=int, default=0, help='with --init: add this many identity-initialised decoder res blocks at 1/32')
    ap.add_argument('--mid32', type=int, default=96, help='middle channels of the --add-res32 blocks')
    ap.add_argument('--add-enc-res', type=int, default=0, help='with --init: add this many identity-initialised encoder res blocks at 1/32')
    ap.add_argument('--enc-mid', type=int, default=128, help='middle channels of the --add-enc-res blocks')
    ap.add_argument('--add-seam', nargs='?', const='4,2', default=None, metavar='STRIDES',
                    help='with --init: add zero-initialised seam inputs to the decoder at these strides (default 4,2; mrt.Decoder seam)')
    ap.add_argument('--add-xres', default=None, metavar='STRIDES',
                    help='with --init: one more identity-initialised res block in each decoder stage at 1/s, '
                         's in STRIDES (e.g. 8,4; mrt.XRES_STRIDES)')
    ap.add_argument('--seam-lr-mult', type=float, default=10.0, help='learning-rate factor of the seam convs and xres blocks (they start as no-ops)')
    ap.add_argument('--nval', type=int, default=16)
    ap.add_argument('--tiny', action='store_true', help='smoke test: few images, no cache')
    mrt.add_data_arg(ap)
    ap.add_argument('--lin', action='store_true', help='add the linear window analysis/synthesis paths')
    ap.add_argument('--pca', default=None, help='initialise the linear paths from pca.py output')
    ap.add_argument('--pca-scale', type=float, default=4.0)
    ap.add_argument('--bound', default='clip', choices=['clip', 'tanh'], help='encoder output bound (with --lin)')
    ap.add_argument('--base', default='webp', choices=['webp', 'avif', 'avif444'],
                    help='placeholder codec simulated in training (avif: 4:2:0, avif444: 4:4:4 as the encoder writes since container 2.7; quality --qmin..--qmax of libavif)')
    ap.add_argument('--val-q', type=int, default=None, help='quality of the held-out bases (default 30 for webp, 45 for avif)')
    ap.add_argument('--scale-min', type=float, default=0.3, help='training crops are rescaled by a log-uniform factor in [scale-min, scale-max]')
    ap.add_argument('--scale-max', type=float, default=1.0, help='> 1 upscales: crops as smooth as downscaled web photos (the sources are busier than Kodak)')
    ap.add_argument('--qmin', type=int, default=5)
    ap.add_argument('--qmax', type=int, default=60)
    ap.add_argument('--coarse', type=int, default=0, metavar='K',
                    help='train for the coarse-first order with K coarse layers (container 2.8): prefixes are its stream states')
    ap.add_argument('--decoder-only', action='store_true', help='with --coarse: only the decoder learns (the tokens, hence the RCM, stay the init model\'s)')
    ap.add_argument('--coarse-value', type=float, default=2.5, help='level offset of a coarse-only token (src/codec/layout.ts COARSE_LEVEL_OFFSET)')
    ap.add_argument('--coarse-mask', type=float, default=1.0, help='mask value of a coarse-only token (manifest coarseMask; 1 = as an exact token)')
    ap.add_argument('--coarse-rate', default='laplace', choices=['laplace', 'st'],
                    help="with --coarse, learning the encoder: a coarse-only token's bits are its coarse trit's under the "
                         "rate model ('laplace': piecewise constant in z, so no rate gradient reaches the encoder), or "
                         "that value with the gradient of the whole token's bits ('st')")
    ap.add_argument('--exact-frac', type=float, default=0.0,
                    help='with --coarse: this fraction of each batch gets layer-major states (exact tokens only), which keep the long prefixes where they were')
    ap.add_argument('--states', default='log', choices=['log', 'deploy'],
                    help="with --coarse: stream lengths log-uniform over all layers ('log'), or spread like a "
                         "client's prefixes from 256 B to 8 KB ('deploy', mrt.sample_stream)")
    ap.add_argument('--focus', default=None, type=parse_focus, metavar='LO:HI:FRAC',
                    help='with --coarse: this fraction of the states get a stream length uniform in LO..HI '
                         '(e.g. 192:256:0.5 for the ~2 KB prefixes of Kodak: the coarse pass and the first exact layers)')
    ap.add_argument('--ssim', type=float, default=0.0, metavar='W',
                    help='add W * (1 - MS-SSIM) per sample to the loss (a structural term beside the dB of MSE; 0: none)')
    ap.add_argument('--real-tokens', default=None, metavar='PREFIX',
                    help='with --coarse --decoder-only: train on the real encoder\'s tokens and bases '
                         '(training/real_tokens.py PREFIX_train.pt / PREFIX_hold.pt) instead of the PyTorch encoder\'s rounding')
    args = ap.parse_args()
    if args.real_tokens and not (args.coarse and args.decoder_only):
        ap.error('--real-tokens needs --coarse and --decoder-only (the tokens are fixed)')
    if args.focus and not args.coarse:
        ap.error('--focus needs --coarse (it picks stream lengths of the coarse-first order)')
    grow_flags = [f for f, v in (('--add-res32', args.add_res32), ('--add-enc-res', args.add_enc_res),
                                 ('--add-seam', args.add_seam), ('--add-xres', args.add_xres)) if v]
    if grow_flags and not args.init:
        ap.error(f'{" ".join(grow_flags)} grow the --init model: they need --init')
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.run, exist_ok=True)
    logf = open(os.path.join(args.run, 'log.jsonl'), 'a')

    def log(d):
        d['time'] = round(time.time(), 1)
        line = json.dumps(d)
        print(line, flush=True)
        logf.write(line + '\n')
        logf.flush()

    last_p = os.path.join(args.run, 'last.pt')
    # the data the weights have seen: this run's set, and the record of what they start from
    # (export.py writes manifest trainingData from it: an init from a research-data checkpoint stays on it)
    lineage = []
    if os.path.exists(last_p):
        ck = torch.load(last_p, weights_only=False)
        cfg = ck['cfg']
        lineage.append(datasets.of_checkpoint(ck))
    elif args.init:
        ck = None
        ik = torch.load(args.init, weights_only=False)
        cfg = ik['cfg']  # the layout of the weights it starts from
        lineage.append(datasets.of_checkpoint(ik))
        if args.add_res32:
            cfg, ik['dec'] = mrt.add_blocks('dec', ik['dec'], cfg, args.add_res32, args.mid32)
        if args.add_enc_res:
            cfg, ik['enc'] = mrt.add_blocks('enc', ik['enc'], cfg, args.add_enc_res, args.enc_mid)
        if args.add_seam:
            cfg, ik['dec'] = mrt.add_seam(ik['dec'], cfg, [int(v) for v in args.add_seam.split(',')])
        if args.add_xres:
            cfg, ik['dec'] = mrt.add_xres(ik['dec'], cfg, [int(v) for v in args.add_xres.split(',')])
    else:
        ck = None
        cfg = dict(mrt.DEFAULT_CFG, T=args.T, L=args.L)
        if args.lin or args.pca:
            cfg['enc'] = dict(cfg['enc'], lin=True, bound=args.bound)
            cfg['dec'] = dict(cfg['dec'], lin=True)
    T, L = cfg['T'], cfg['L']
    if args.focus and args.focus[1] > T + args.coarse:
        ap.error(f'--focus HI {args.focus[1]} is past the stream\'s {T + args.coarse} layers')
    enc, dec, rate = mrt.build(cfg)
    # --decoder-only: the tokens (hence the RCM) stay those of the init model
    params = list(dec.parameters()) if args.decoder_only else list(enc.parameters()) + list(dec.parameters()) + list(rate.parameters())
    # the seam convs and xres blocks start as no-ops: their own (higher) learning rate, 'mult' times the schedule's
    grown = [getattr(dec, name(s_)) for name, strides in ((mrt.seam_name, mrt.SEAM_STRIDES), (mrt.xres_name, mrt.XRES_STRIDES))
             for s_ in strides]
    grown_ids = {id(p) for m in grown if m is not None for p in m.parameters()}
    groups = [{'params': [p for p in params if id(p) not in grown_ids], 'mult': 1.0}]
    if grown_ids:
        groups.append({'params': [p for p in params if id(p) in grown_ids], 'mult': args.seam_lr_mult})
    opt = torch.optim.Adam(groups, lr=args.lr)
    step, best, elapsed = 0, float('inf'), 0.0
    if ck is not None:
        enc.load_state_dict(ck['enc']), dec.load_state_dict(ck['dec']), rate.load_state_dict(ck['rate'])
        opt.load_state_dict(ck['opt'])
        step, best, elapsed = ck['step'], ck['best'], ck.get('elapsed', 0.0)
        log({'event': 'resume', 'step': step, 'best': best})
    elif args.init:
        enc.load_state_dict(ik['enc']), dec.load_state_dict(ik['dec']), rate.load_state_dict(ik['rate'])
        log({'event': 'init', 'from': args.init})
    elif args.grow:
        gk = torch.load(args.grow, weights_only=False)
        lineage.append(datasets.of_checkpoint(gk))
        mrt.grow(enc, dec, rate, gk, args.pca, args.pca_scale)
        log({'event': 'grow', 'from': args.grow, 'pca': args.pca, 'scale': args.pca_scale})
    elif args.pca:
        mrt.init_pca(enc, dec, args.pca, args.pca_scale)
        log({'event': 'init', 'pca': args.pca, 'scale': args.pca_scale})
    for g in opt.param_groups:
        g['lr'] = args.lr * g.get('mult', 1.0)

    if ck is None and not args.init and args.pca:  # the principal components start the linear paths (--grow, --pca)
        lineage.append(datasets.of_checkpoint(torch.load(args.pca, weights_only=False)))
    if args.real_tokens:  # the real encoder's images, tokens and bases: no simulated ones
        from real_tokens import RealSampler
        rt = {s_: torch.load(f'{args.real_tokens}_{s_}.pt', weights_only=False) for s_ in ('train', 'hold')}
        for s_, d_ in rt.items():
            got = datasets.of_checkpoint(d_)['sets']
            if got != [args.data]:
                ap.error(f'{args.real_tokens}_{s_}.pt holds tokens of the {"/".join(got)} set, not --data {args.data}')
        data = datasets.merge(*(datasets.of_checkpoint(d_) for d_ in rt.values()))
        real = RealSampler(rt['train'], crop=args.crop, seed=args.seed * 1000 + step)
        hs = RealSampler(rt['hold'], crop=args.crop, seed=12345)
        xs, bs, ks = zip(*(hs.one(i) for i in hs.ok for _ in range(4)))  # 4 fixed crops per held-out image
        real_val = (torch.stack(xs), torch.stack(bs), torch.stack(ks))
        n_train, n_hold = len(real.ok), len(hs.ok)
    else:
        imgs = mrt.tiny_images(data=args.data) if args.tiny else mrt.load_cache(args.data)[0]
        data = mrt.data_record(args.data, len(imgs) if args.tiny else None)
        ids = list(range(len(imgs)))
        hold = [i for i in ids if mrt.is_holdout(i)] if not args.tiny else ids[:2]
        train_ids = [i for i in ids if i not in set(hold)]
        val_q = args.val_q if args.val_q is not None else (45 if args.base.startswith('avif') else 30)
        val = mrt.val_set(imgs, hold[:args.nval], size=min(256, 4 * args.crop), q=val_q, fmt=args.base)
        sampler = mrt.Sampler(imgs, train_ids, crop=args.crop, seed=args.seed * 1000 + step,
                              qrange=(args.qmin, args.qmax), fmt=args.base, smin=args.scale_min, smax=args.scale_max)
        n_train, n_hold = len(train_ids), len(hold)
    data = datasets.merge(*lineage, data)
    inherited = [s_ for s_ in data['sets'] if s_ != args.data]
    if inherited:
        print(f'note: the weights this run starts from were trained on {", ".join(inherited)} too: '
              f'its checkpoints (and their exports) list that data beside {args.data}', flush=True)
    rng = np.random.default_rng(args.seed * 7919 + step)
    log({'event': 'start', 'cfg': cfg, 'args': vars(args), 'enc_params': mrt.nparams(enc),
         'dec_params': mrt.nparams(dec), 'train_images': n_train, 'holdout': n_hold,
         'data_sets': data['sets'], 'data_images': len(data['images'])})

    def save(path):
        torch.save({'cfg': cfg, 'enc': enc.state_dict(), 'dec': dec.state_dict(), 'rate': rate.state_dict(),
                    'opt': opt.state_dict(), 'step': step, 'best': best, 'coarse_mask': args.coarse_mask, 'data': data,
                    'elapsed': elapsed + time.time() - t_start}, path + '.tmp')
        os.replace(path + '.tmp', path)

    def validate():
        if args.real_tokens:
            out, obj = evaluate_real(dec, real_val, T, L, args)
            return obj, {u: round(p, 3) for u, p in out.items()}
        if args.coarse:
            out, obj = evaluate_coarse(enc, dec, rate, val, T, L, args)
            if args.decoder_only:  # enc.eval() again: the frozen encoder stays in eval mode
                enc.eval()
            return obj, {u: [round(p, 3), round(r, 4)] for u, (p, r) in out.items()}
        out, obj = evaluate(enc, dec, rate, val, T, L, args)
        return obj, {k: [round(p, 2), round(r, 4)] for k, (p, r) in out.items()}

    if args.decoder_only:
        enc.eval()
    if args.init and step == 0:
        # the starting point on this run's held-out set (its bases may differ from the init run's)
        obj, vals = validate()
        log({'step': 0, 'val_obj': round(obj, 4), 'init': True, 'val': vals})
    t_start = time.time()
    t_ck = time.time()
    acc = {'loss': 0.0, 'psnr': 0.0, 'bpp': 0.0, 'n': 0}
    lr_max = args.lr
    while True:
        # (the cap counts the run's whole training time, across resumes: a run carried over
        # from an earlier machine's checkpoint trains as long as one that was never stopped)
        if args.minutes and elapsed + time.time() - t_start > args.minutes * 60:
            break
        if args.steps and step >= args.steps:
            break
        if args.lr_final is not None and args.steps:
            frac = min(1.0, step / args.steps)
            lr = args.lr_final + 0.5 * (lr_max - args.lr_final) * (1 + math.cos(math.pi * frac))
            for g in opt.param_groups:
                g['lr'] = lr * g.get('mult', 1.0)
        if args.real_tokens:
            x, b, kreal = real.batch(args.batch)
        else:
            x, b = sampler.batch(args.batch)
            kreal = None
        if args.coarse:
            # stream states of the coarse-first order: exact tokens cost their bits, coarse-only ones their trit's
            us = (mrt.sample_stream(args.batch, T, args.coarse, rng) if args.states == 'deploy'
                  else mrt.sample_k(args.batch, T + args.coarse, rng))
            if args.focus:
                lo, hi, frac = args.focus
                us = [int(rng.integers(lo, hi + 1)) if rng.random() < frac else u for u in us]
            # layer-major states (k exact layers, nothing coarse): the coarse-first stream has them
            # only past 2K layers, so the short exact prefixes need their own samples
            if args.exact_frac > 0:
                us = [(k, k) if rng.random() < args.exact_frac else u for u, k in zip(us, mrt.sample_k(args.batch, T, rng))]
            if kreal is not None:
                z = None
            elif args.decoder_only:
                with torch.no_grad():
                    z = enc(x, b)
            else:
                z = enc(x, b)
            vin, m, ex, co = coarse_inputs(z, T, L, args.coarse, args.coarse_value, us, rng, cmask=args.coarse_mask, k=kreal)
            y = dec(vin, m, b)
            mse = torch.mean((y - x) ** 2, dim=(1, 2, 3))
            cbits = rate.coarse_bits(vin)
            if args.coarse_rate == 'st' and not args.decoder_only:
                # a joint run with container 2.8 spent 40-140 % more bits: the coarse trits' bits gave z no gradient
                full = rate.bits(mrt.fsq(z, L)[1])
                cbits = cbits + full - full.detach()
            bpp = (rate.bits(vin) * ex + cbits * co).sum((1, 2, 3)) / (x.shape[2] * x.shape[3])
            # (decoder-only: the bits do not depend on what learns)
            per = 10 * torch.log10(mse + 1e-6) + rate_term(bpp, args, torch.tensor([state_layers(u) for u in us]))
            if args.ssim:
                per = per + args.ssim * (1 - ms_ssim(y, x))
            loss = torch.mean(per)
        else:
            z = enc(x, b)
            _, v = mrt.fsq(z, L)
            ks = mrt.sample_k(args.batch, T, rng)
            m = mrt.make_mask(ks, T, z.shape[2], z.shape[3], rng)
            y = dec(v * m, m, b)
            mse = torch.mean((y - x) ** 2, dim=(1, 2, 3))
            bpp = (rate.bits(v) * m).sum((1, 2, 3)) / (x.shape[2] * x.shape[3])
            # per-sample dB loss: equal weight to every prefix length in PSNR terms
            per = 10 * torch.log10(mse + 1e-6) + rate_term(bpp, args, torch.tensor(ks))
            if args.ssim:
                per = per + args.ssim * (1 - ms_ssim(y, x))
            loss = torch.mean(per)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        step += 1
        acc['loss'] += loss.item()
        acc['psnr'] += (-10 * torch.log10(mse.detach() + 1e-10)).mean().item()
        acc['bpp'] += bpp.detach().mean().item()
        acc['n'] += 1
        if step % 50 == 0:
            n = acc.pop('n')
            now = time.time()
            log({'step': step, **{k: round(v / n, 4) for k, v in acc.items()},
                 'lr': opt.param_groups[0]['lr'], 'min': round((elapsed + now - t_start) / 60, 2)})
            acc = {'loss': 0.0, 'psnr': 0.0, 'bpp': 0.0, 'n': 0}
        if step % args.val_every == 0:
            obj, vals = validate()
            improved = obj < best
            if improved:
                best = obj
            log({'step': step, 'val_obj': round(obj, 4), 'best': improved, 'val': vals})
            if improved:
                save(os.path.join(args.run, 'best.pt'))
        if time.time() - t_ck > args.ckpt_minutes * 60:
            save(last_p)
            t_ck = time.time()
    obj, vals = validate()
    if obj < best:
        best = obj
        save(os.path.join(args.run, 'best.pt'))
    log({'step': step, 'val_obj': round(obj, 4), 'final': True, 'val': vals})
    save(last_p)
    log({'event': 'stop', 'step': step, 'minutes_total': round((elapsed + time.time() - t_start) / 60, 1)})


if __name__ == '__main__':
    main()
