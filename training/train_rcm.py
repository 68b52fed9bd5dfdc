"""Train the RCM prior on the quantised tokens of a trained encoder.

    python training/train_rcm.py --ckpt training/runs/main/best.pt --out training/runs/main/rcm.pt
Tokens come from whole training images (long side 512..1024 px, no upscaling, base WebP
fitted to 200 B as the encoder does). Cross-entropy in bits is the code length; early
stopping on the held-out images. Reports bits/token vs the static adaptive prior.

With --encoder-tokens MODELS_DIR the tokens come instead from the real TypeScript encoder
(scripts/encoder-tokens.ts: AVIF placeholder, closed-loop tail, everything `mrt encode`
does) with the models in MODELS_DIR, which must be the export of --ckpt: the prior is then
trained on exactly the statistics it codes.

With --coarse K the model is an RCM over the coarse trits c = floor(k / 3) of layers 0..K-1
(L = 3; container 2.8's coarse pass, docs/design.md), reported against the 12 adaptive
neighbourhood tables that code them today (coarse_table_bits). Not yet used by the coder: a
measurement towards a coarse-trit prior.

With --refine K the token RCM learns for the coarse-first order with K coarse layers: in
layers < K a token's coarse trit is already known when the coder reaches it, so the loss is
-log p(k | its coarse bin), the refinement trit's bits (src/codec/coarse.ts), not the whole
token's. Same architecture and rcm.json as without it; only what the weights are fitted to.

--data SET (or MRT_DATA) picks the training set whose images give the tokens (training/datasets.py);
the RCM checkpoint records it, with the data of --ckpt and --init-rcm, for export.py.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
import mrt  # noqa: E402


def image_tokens(enc, a, L, base_bytes=200):
    img = Image.fromarray(mrt.pad32(a))
    base, _, _ = mrt.base_for_budget(img, base_bytes)
    with torch.no_grad():
        z = enc(mrt.to_t(img)[None], mrt.to_t(base)[None])
    k, _ = mrt.fsq(z, L)
    return k[0].to(torch.uint8)


def collect(enc, L, imgs, ids, seed=0, max_side=1024, tiny=False):
    rng = np.random.default_rng(seed)
    out = []
    for i in ids:
        a = imgs[i]
        h, w = a.shape[:2]
        side = max(h, w)
        target = rng.uniform(512, 1024) if not tiny else 256
        s = min(1.0, target / side)
        if s < 1.0:
            a = np.asarray(Image.fromarray(a).resize((max(32, round(w * s)), max(32, round(h * s))), Image.LANCZOS))
        out.append(image_tokens(enc, a, L))
    return out


def sizes_for(files, ids, seed, max_side=1024):
    """The sizes collect() resizes to (same random draws), without decoding the images."""
    rng = np.random.default_rng(seed)
    out = []
    for i in ids:
        w, h = Image.open(files[i]).size
        target = rng.uniform(512, max_side)
        s = min(1.0, target / max(h, w))
        out.append((w, h) if s >= 1.0 else (max(32, round(w * s)), max(32, round(h * s))))
    return out


def run_encoder_tokens(models_dir, items, prefix, jobs=2, bases=False):
    """Runs scripts/encoder-tokens.ts over `items` ([{path, width, height}]) in `jobs` processes
    (scratch files next to `prefix`). Returns the tokens in items' order, and with `bases` the
    decoded placeholders too (read_base_file's arrays), else None."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shards = [items[j::jobs] for j in range(jobs)]
    procs = []
    for j, sh in enumerate(shards):
        with open(f'{prefix}.{j}.json', 'w') as fh:
            json.dump(sh, fh)
        extra = ['--bases', f'{prefix}.{j}.base'] if bases else []
        procs.append(subprocess.Popen(['npx', 'tsx', os.path.join(root, 'scripts', 'encoder-tokens.ts'), '--list', f'{prefix}.{j}.json',
                                       '--out', f'{prefix}.{j}', '--models', os.path.abspath(models_dir), *extra], cwd=root,
                                      start_new_session=True))  # a process group: npx does not pass signals on
    try:
        if any(p.wait() != 0 for p in procs):
            raise SystemExit('encoder-tokens.ts failed')
    finally:  # interrupted (Ctrl-C, or SIGTERM: see main): stop the encoders too
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
    toks, bs = [None] * len(items), ([None] * len(items) if bases else None)
    for j in range(jobs):
        toks[j::jobs] = read_token_file(f'{prefix}.{j}')
        os.remove(f'{prefix}.{j}')
        os.remove(f'{prefix}.{j}.json')
        if bases:
            bs[j::jobs] = read_base_file(f'{prefix}.{j}.base')
            os.remove(f'{prefix}.{j}.base')
    return toks, bs


def encoder_tokens(models_dir, files, ids, seed, cache, jobs=2):
    """Tokens of the real encoder (scripts/encoder-tokens.ts) for files[ids], cached in `cache`."""
    cache = os.path.abspath(cache)
    if not os.path.exists(cache):
        items = [{'path': files[i], 'width': w, 'height': h} for i, (w, h) in zip(ids, sizes_for(files, ids, seed))]
        toks, _ = run_encoder_tokens(models_dir, items, cache, jobs)
        torch.save(toks, cache)
    return torch.load(cache)


def tokens_key(manifest):
    """Cache key of the real encoder's tokens: the sha256s of the model files they depend on,
    i.e. all but rcm.json (an RCM-only release keeps its tokens: no 17-minute re-encode)."""
    files = {k: v['sha256'] for k, v in sorted(manifest['files'].items()) if k != 'rcm.json'}
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def read_token_file(path):
    """scripts/encoder-tokens.ts output -> list of uint8 [T, gh, gw] tensors."""
    buf = np.fromfile(path, dtype=np.uint8)
    out, o = [], 0
    while o < len(buf):
        T, gh, gw = np.frombuffer(buf[o:o + 12].tobytes(), dtype='<u4')
        o += 12
        n = int(T) * int(gh) * int(gw)
        out.append(torch.from_numpy(buf[o:o + n].reshape(int(T), int(gh), int(gw)).copy()))
        o += n
    return out


def read_base_file(path):
    """scripts/encoder-tokens.ts --bases output -> list of uint8 [h, w, 3] arrays."""
    buf = np.fromfile(path, dtype=np.uint8)
    out, o = [], 0
    while o < len(buf):
        w, h = np.frombuffer(buf[o:o + 8].tobytes(), dtype='<u4')
        o += 8
        n = int(w) * int(h) * 3
        out.append(buf[o:o + n].reshape(int(h), int(w), 3).copy())
        o += n
    return out


def coarse_table_bits(c):
    """Code length (bits) of coarse trits c [K, gh, gw] under today's coder: 12 adaptive tables
    chosen by the neighbourhood context (src/codec/prior.ts neighbourhoodContext: 4 * min(2,
    off-centre among left, up, up-left, up-right) + min(3, off-centre among the window's previous
    8 tokens); src/codec/coarse.ts), counts 1, +24, halved past 2^13. For the report only."""
    K, gh, gw = c.shape
    off = (c != 1).numpy().astype(np.int64)
    cn = c.numpy()
    counts = np.ones((12, 3), np.int64)
    past = np.zeros((8, gh, gw), np.int64)
    bits = 0.0
    for t in range(K):
        for y in range(gh):
            for x in range(gw):
                n = (off[t, y, x - 1] if x > 0 else 0) + (off[t, y - 1, x] if y > 0 else 0) \
                    + (off[t, y - 1, x - 1] if x > 0 and y > 0 else 0) + (off[t, y - 1, x + 1] if y > 0 and x < gw - 1 else 0)
                ctx = 4 * min(2, n) + min(3, int(past[:, y, x].sum()))
                f = mrt.quantise_freqs((counts[ctx] / counts[ctx].sum())[None])[0]
                s = cn[t, y, x]
                bits += -math.log2(f[s] / mrt.M_TOTAL)
                counts[ctx, s] += 24
                if counts[ctx].sum() > (1 << 13):
                    counts[ctx] = (counts[ctx] + 1) // 2
        past = np.roll(past, 1, 0)
        past[0] = off[t]
    return bits


def ce_bits(rcm, k, refine=0):
    """Code length (bits, natural-log cross-entropy / ln 2) of tokens k [T, gh, gw]. With
    refine = K, a token of layers < K is coded as the coder codes it in the coarse-first order
    (docs/design.md "Coarse pass"): its coarse trit c = floor(k / 3) is already known, so it
    costs -log p(k | bin c) = -log (p(k) / sum of p over levels 3c..3c+2)."""
    lg = rcm.logits(k[None].long())[0]
    kl = k.long()
    logp = F.log_softmax(lg, -1)
    nll = -logp.gather(-1, kl[..., None])[..., 0]
    if refine:
        K = min(refine, k.shape[0])
        # levels 3c..3c+2 are row c of the [3, 3] view; log p(bin c) = logsumexp of that row
        binp = torch.logsumexp(logp[:K].unflatten(-1, (3, 3)), -1).gather(-1, (kl[:K] // 3)[..., None])[..., 0]
        nll = torch.cat([nll[:K] + binp, nll[K:]])
    return nll.sum() / math.log(2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(mrt.RUNS, 'main', 'best.pt'))
    ap.add_argument('--out', default=None)
    ap.add_argument('--D', type=int, default=16)
    ap.add_argument('--H', type=int, default=32)
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--minutes', type=float, default=10)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--patience', type=int, default=4)
    ap.add_argument('--tiny', action='store_true')
    mrt.add_data_arg(ap)
    ap.add_argument('--encoder-tokens', default=None, metavar='MODELS_DIR',
                    help="train on the real encoder's tokens (the export of --ckpt in MODELS_DIR)")
    ap.add_argument('--layers', type=int, default=0,
                    help='cover only the first N token layers (later ones use the static prior; docs/design.md)')
    ap.add_argument('--coarse', type=int, default=0, metavar='K',
                    help='model the coarse trits floor(k / 3) of layers 0..K-1 instead of the tokens (L = 3)')
    ap.add_argument('--refine', type=int, default=0, metavar='K',
                    help="learn for the coarse-first order with K coarse layers: in layers < K the token's coarse trit is "
                         'known, so the loss is the refinement trit\'s bits (what the coder spends there)')
    ap.add_argument('--init-rcm', default=None, help='start from this RCM checkpoint (same T, L, D, H)')
    args = ap.parse_args()
    # SIGTERM (kill) unwinds like Ctrl-C, so that encoder_tokens stops its encoder processes
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    torch.set_num_threads(1)
    out = args.out or os.path.join(os.path.dirname(args.ckpt), 'rcm.pt')
    ck, enc, _, _ = mrt.load_encoder(args.ckpt)
    T, L = ck['cfg']['T'], ck['cfg']['L']

    # token caches are per set (research keeps the names every existing run used)
    sfx = '' if args.data == 'research' else f'_{args.data}'
    tok_p = os.path.join(os.path.dirname(out), f'tokens_step{ck.get("step")}{sfx}.pt')
    # the data of the RCM's weights: the set's tokens, and (conservatively) the lineage of the
    # encoder that made them and of the RCM it starts from
    lineage = [datasets.of_checkpoint(ck)]
    if args.tiny:
        imgs = mrt.tiny_images(10, args.data)
        data = mrt.data_record(args.data, 10)
        hold, train = [0, 1], list(range(2, 10))
        toks = collect(enc, L, imgs, range(10), tiny=True)
        tr, ho = [toks[i] for i in train], [toks[i] for i in hold]
    elif args.encoder_tokens:
        files = mrt.list_train(args.data)
        data = mrt.data_record(args.data)
        ids = range(len(files))
        hold = [i for i in ids if mrt.is_holdout(i)]
        train = [i for i in ids if not mrt.is_holdout(i)]
        man = json.load(open(os.path.join(args.encoder_tokens, 'manifest.json')))
        base = os.path.join(os.path.dirname(out), f'encoder_tokens_{tokens_key(man)}{sfx}')
        t0 = time.time()
        ho = encoder_tokens(args.encoder_tokens, files, hold, 1, base + '_hold.pt')
        tr = encoder_tokens(args.encoder_tokens, files, train, 2, base + '_train.pt')
        print(f'encoder tokens ({man["id"]}): {len(tr)} train / {len(ho)} held-out images, {time.time() - t0:.0f}s', flush=True)
    elif os.path.exists(tok_p):
        d = torch.load(tok_p)
        tr, ho = d['train'], d['hold']
        data = mrt.data_record(args.data)
    else:
        t0 = time.time()
        imgs, _ = mrt.load_cache(args.data)
        data = mrt.data_record(args.data)
        ids = range(len(imgs))
        hold = [i for i in ids if mrt.is_holdout(i)]
        train = [i for i in ids if not mrt.is_holdout(i)]
        ho = collect(enc, L, imgs, hold, seed=1)
        tr = collect(enc, L, imgs, train, seed=2)
        torch.save({'train': tr, 'hold': ho}, tok_p)
        print(f'tokens: {len(tr)} train / {len(ho)} held-out images, {time.time() - t0:.0f}s', flush=True)

    if args.layers and args.layers < T:
        T = args.layers
        tr, ho = [k[:T] for k in tr], [k[:T] for k in ho]
        print(f'RCM covers layers 0..{T - 1}', flush=True)
    tables = None
    if args.coarse:
        if L != 9:
            raise SystemExit(f'--coarse needs 9 levels (coarse trits of 3), the model has {L}')
        T, L = min(args.coarse, T), 3
        tr = [torch.div(k[:T], 3, rounding_mode='floor') for k in tr]
        ho = [torch.div(k[:T], 3, rounding_mode='floor') for k in ho]
        tables = sum(coarse_table_bits(k) for k in ho) / sum(k.numel() for k in ho)
        print(f'coarse trits of layers 0..{T - 1}; held-out: neighbourhood tables {tables:.4f} bits/trit', flush=True)
    n_ho = sum(k.numel() for k in ho)
    stat = sum(mrt.static_bits(k.numpy(), L).sum() for k in ho) / n_ho
    # per-layer histogram entropy of the training tokens (an ideal static table)
    hist = torch.zeros(T, L)
    for k in tr:
        hist += F.one_hot(k.long(), L).sum((1, 2)).float()
    ph = (hist + 0.5) / (hist + 0.5).sum(1, keepdim=True)
    hist_bits = sum(-torch.log2(ph[torch.arange(T)[:, None, None], k.long()]).sum().item() for k in ho) / n_ho
    print(f'held-out: static adaptive prior {stat:.4f} bits/token, static per-layer train histogram {hist_bits:.4f}', flush=True)

    if args.refine and args.coarse:
        raise SystemExit('--refine is for the token RCM, not the coarse one')
    if args.refine and L != 9:
        raise SystemExit(f'--refine needs 9 levels (coarse trits of 3), the model has {L}')
    rcm = mrt.RCM(T, L, args.D, args.H)
    if args.init_rcm:
        ik = torch.load(args.init_rcm, weights_only=False)
        rcm.load_state_dict(ik['state'])
        lineage.append(datasets.of_checkpoint(ik))
    else:
        with torch.no_grad():  # start from the per-layer histogram: logits b2 + P via the MLP is hard; use b2 mean
            rcm.b2.copy_(torch.log(ph.mean(0)))

    def hold_bits():
        with torch.no_grad():
            return sum(ce_bits(rcm, k, args.refine).item() for k in ho) / n_ho

    start = hold_bits()
    print(f'held-out at start: {start:.4f} bits/token' + (f' (refinement trits in layers < {args.refine})' if args.refine else ''), flush=True)
    opt = torch.optim.Adam(rcm.parameters(), lr=args.lr)
    best, best_state, bad = float('inf'), None, 0
    t0 = time.time()
    rng = np.random.default_rng(0)
    for ep in range(args.epochs):
        order = rng.permutation(len(tr))
        tot, n = 0.0, 0
        for j in range(0, len(order), 4):
            loss = sum(ce_bits(rcm, tr[i], args.refine) for i in order[j:j + 4])
            cnt = sum(tr[i].numel() for i in order[j:j + 4])
            opt.zero_grad()
            (loss / cnt).backward()
            opt.step()
            tot += loss.item()
            n += cnt
        hb = hold_bits()
        print(json.dumps({'epoch': ep, 'train_bits': round(tot / n, 4), 'hold_bits': round(hb, 4),
                          'min': round((time.time() - t0) / 60, 2)}), flush=True)
        if hb < best - 1e-4:
            best, bad = hb, 0
            best_state = {k_: v.clone() for k_, v in rcm.state_dict().items()}
        else:
            bad += 1
            if bad >= args.patience:
                break
        if args.minutes and time.time() - t0 > args.minutes * 60:
            break
        for g in opt.param_groups:
            g['lr'] *= 0.85
    rcm.load_state_dict(best_state)
    exact = sum(mrt.rcm_bits(rcm, k.long()).sum() for k in ho) / n_ho
    info = {'ckpt': args.ckpt, 'step': ck.get('step'), 'hold_bits_ce': round(best, 4), 'refine': args.refine, 'hold_bits_start': round(start, 4),
            'hold_bits_coded': round(float(exact), 4), 'hold_static_bits': round(float(stat), 4),
            'hold_hist_bits': round(hist_bits, 4), 'hold_tokens': n_ho}
    if tables is not None:
        info.update(coarse_layers=T, hold_tables_bits=round(tables, 4))
    info['data_sets'] = data['sets']
    torch.save({'D': args.D, 'H': args.H, 'T': T, 'L': L, 'state': rcm.state_dict(), 'info': info,
                'data': datasets.merge(*lineage, data)}, out)
    print(json.dumps(info), flush=True)


if __name__ == '__main__':
    main()
