"""Rebuild training checkpoints from a shipped model folder (models/), so that training can
resume from a release when training/runs/ (gitignored) is gone, e.g. on a new machine.

    python training/recover.py --models models --run training/runs/v05
writes <run>/recovered.pt (cfg, enc, dec, rate: use with train.py --init) and
<run>/recovered_rcm.pt (the RCM, as train_rcm.py saves it: use with export.py --rcm), and
<run>/recovered_coarse_rcm.pt when rcm.json has a coarse-trit RCM (export.py --coarse-rcm).

encoder.onnx holds the encoder's parameters under their PyTorch names. decoder.onnx is
in the graph form of export_graph.py: its ConvTranspose weights are inverted back to the
1x1 up-convs (and the output conv's bias is read from the window-level bias rs_w_b).
The training-only rate model (per-layer Laplace scales) is not shipped: it is refitted
by maximum likelihood on the tokens of training crops. The script re-exports the
recovered decoder and encoder and checks that they reproduce the shipped graphs' outputs.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper as nh
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
import mrt  # noqa: E402
from export_graph import ExportDecoder, seam_shift  # noqa: E402

TOL = 1e-4


def initializers(path):
    return {t.name: torch.from_numpy(nh.to_array(t).copy()) for t in onnx.load(path).graph.initializer}


def f32_tensor(t):
    """A tensor as export.py writes it into rcm.json ({shape, f32: base64 little-endian})."""
    return torch.from_numpy(np.frombuffer(base64.b64decode(t['f32']), '<f4').reshape(t['shape']).copy())


def exact_logit(decay: torch.Tensor, steps: int = 64) -> torch.Tensor:
    """float32 logits whose torch.sigmoid is exactly `decay` (float32) on this machine.
    log(d/(1-d)) rounded to float32 misses by an ulp for ~2% of values, and which ones
    depends on the CPU's vectorised sigmoid, so step each miss one ulp toward its target."""
    d = decay.double().clamp(1e-7, 1 - 1e-7)
    lg = torch.log(d / (1 - d)).float()
    inf = torch.full_like(lg, float('inf'))
    for _ in range(steps):
        got = torch.sigmoid(lg)
        bad = got != decay
        if not bad.any():
            return lg
        lg = torch.where(bad, torch.nextafter(lg, torch.where(got < decay, inf, -inf)), lg)
    raise SystemExit(f'RCM decay: {int(bad.sum())} values have no float32 logit on this machine')


def invert_up(wt: torch.Tensor):
    """up*_ct [cin+1, c, 2, 2] -> (weight [4c, cin, 1, 1], bias [4c]) of the 1x1 up-conv."""
    cin1 = wt.shape[0]
    wb = wt.permute(1, 2, 3, 0).reshape(-1, cin1)
    return wb[:, :-1, None, None].contiguous(), wb[:, -1].contiguous()


def decoder_state(init: dict, dec: mrt.Decoder) -> dict:
    sd = {}
    for name in dec.state_dict():
        if ('d.' + name) in init:
            sd[name] = init['d.' + name]
    for name in ('up16', 'up8', 'up4', 'up2'):
        sd[name + '.weight'], sd[name + '.bias'] = invert_up(init[name + '_ct'])
    oc = init['out_ct']  # [c2, 3, 2, 2] from W [12, c2]
    sd['out.weight'] = oc.permute(1, 2, 3, 0).reshape(12, -1)[:, :, None, None].contiguous()
    sd['out.bias'] = init['rs_w_b'].reshape(3, mrt.WINDOW, mrt.WINDOW)[:, :2, :2].reshape(12).contiguous()
    for name in map(mrt.seam_name, mrt.SEAM_STRIDES):  # the graph's seam biases absorbed seam_shift
        if name + '_b' in init:
            sd[name + '.bias'] = init[name + '_b'] + seam_shift(sd[name + '.weight'], sd['out.bias'])
    missing = set(dec.state_dict()) - set(sd)
    if missing:
        raise SystemExit(f'decoder.onnx lacks {sorted(missing)}')
    return sd


def fit_rate(enc, rate, L, n=64, crop=128, steps=300, tiny=False, data=datasets.DEFAULT):
    """Per-layer Laplace scales by maximum likelihood on the quantised tokens of training crops
    (of set `data`)."""
    if tiny:
        imgs = mrt.tiny_images(data=data)
        n, crop = 16, 64
    else:
        imgs, _ = mrt.load_cache(data)
    ids = [i for i in range(len(imgs)) if not mrt.is_holdout(i)] if not tiny else list(range(len(imgs)))
    sampler = mrt.Sampler(imgs, ids, crop=crop, seed=12345)
    with torch.no_grad():
        vs = []
        for _ in range(n // 16):
            x, b = sampler.batch(16)
            _, v = mrt.fsq(enc(x, b), L)
            vs.append(v)
        v = torch.cat(vs)
    opt = torch.optim.Adam(rate.parameters(), lr=0.05)
    for _ in range(steps):
        loss = rate.bits(v).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', default=os.path.join(mrt.ROOT, 'models'))
    ap.add_argument('--run', required=True)
    ap.add_argument('--tiny', action='store_true', help='smoke test: fit the rate model on 12 images')
    args = ap.parse_args()
    torch.set_num_threads(1)
    man = json.load(open(os.path.join(args.models, 'manifest.json')))
    lay = man['layout']
    T, L = lay['tokens'], lay['levels']
    cfg = dict(mrt.DEFAULT_CFG, T=T, L=L)
    cfg['enc'] = dict(cfg['enc'], lin=True, bound='clip', **man.get('arch', {}).get('enc', {}))
    cfg['dec'] = dict(cfg['dec'], lin=True, **man.get('arch', {}).get('dec', {}))
    enc, dec, rate = mrt.build(cfg)
    enc.load_state_dict(initializers(os.path.join(args.models, 'encoder.onnx')))
    dpath = os.path.join(args.models, 'decoder.onnx')
    dec.load_state_dict(decoder_state(initializers(dpath), dec))
    enc.eval(), dec.eval()

    # check: the recovered modules reproduce the shipped graphs
    import onnxruntime as ort
    g = torch.Generator().manual_seed(7)
    gh, gw = 3, 4
    z = torch.rand(1, T, gh, gw, generator=g) * 2 - 1
    mask = (torch.rand(1, T, gh, gw, generator=g) < 0.5).float()
    base = torch.rand(1, 3, gh * 2, gw * 2, generator=g)
    img = torch.rand(1, 3, gh * 32, gw * 32, generator=g)
    with torch.no_grad():
        y = ExportDecoder(dec)(z * mask, mask, base)
        y_ref = dec(z * mask, mask, base)
        ez = enc(img, base)
    sess = ort.InferenceSession(dpath, providers=['CPUExecutionProvider'])
    y_onnx = sess.run(None, {'z': (z * mask).numpy(), 'mask': mask.numpy(), 'base': base.numpy()})[0]
    esess = ort.InferenceSession(os.path.join(args.models, 'encoder.onnx'), providers=['CPUExecutionProvider'])
    ez_onnx = esess.run(None, {'image': img.numpy(), 'base': base.numpy()})[0]
    dd = max(float(np.abs(y_onnx - y.numpy()).max()), float(np.abs(y_onnx - y_ref.numpy()).max()))
    de = float(np.abs(ez_onnx - ez.numpy()).max())
    print(f'recovered vs shipped: decoder max|d|={dd:.2e} encoder max|d|={de:.2e} (tol {TOL})')
    if dd > TOL or de > TOL:
        raise SystemExit('the recovered weights do not reproduce the shipped models')

    # the data the shipped weights were trained on (manifest trainingSets; before they were
    # recorded, every release was trained on 'research'), rebuilt per image from today's sets
    # (--tiny: the first 12 images, what the smoke runs train on)
    sets = man.get('trainingSets') or [datasets.DEFAULT]
    data = datasets.merge(*(mrt.data_record(s_, 12 if args.tiny else None) for s_ in sets))
    if 'trainingData' in man and datasets.training_data(data) != man['trainingData']:
        print(f'note: the {"/".join(sets)} set differs from the manifest\'s trainingData (it has changed since the export): '
              'the recovered checkpoints record today\'s set')
    bits = fit_rate(enc, rate, L, tiny=args.tiny, data=sets[0])
    print(f'rate model refitted: {bits:.3f} bits/token (estimate) on training crops of {sets[0]}')
    os.makedirs(args.run, exist_ok=True)
    out = os.path.join(args.run, 'recovered.pt')
    torch.save({'cfg': cfg, 'enc': enc.state_dict(), 'dec': dec.state_dict(), 'rate': rate.state_dict(),
                'from': man['id'], 'coarse_mask': man.get('coarseMask', 1.0), 'data': data}, out)
    rj = json.load(open(os.path.join(args.models, 'rcm.json')))
    rout = os.path.join(args.run, 'recovered_rcm.pt')
    save_rcm(rj, rout, man['id'], data)
    msg = f'wrote {out} and {rout}'
    if 'coarse' in rj:  # the coarse-trit RCM (export.py --coarse-rcm)
        cout = os.path.join(args.run, 'recovered_coarse_rcm.pt')
        save_rcm(rj['coarse'], cout, man['id'], data)
        msg += f' and {cout}'
    print(msg + ' (RCM decay round trip exact)')


def save_rcm(rj, path, model_id, data=None):
    """An rcm.json object back to a train_rcm.py checkpoint that export.py writes identically."""
    tens = {n: f32_tensor(t) for n, t in rj['tensors'].items()}
    rcm = mrt.RCM(rj['T'], rj['L'], rj['D'], rj['H'])
    decay = tens.pop('decay')
    rcm.load_state_dict({**tens, 'decay_logit': exact_logit(decay)})
    err = float((rcm.decay().detach() - decay).abs().max())
    if err:  # re-export must write the same rcm.json (same modelHash)
        raise SystemExit(f'RCM decay does not round-trip exactly (max|d|={err:.1e})')
    torch.save({'D': rj['D'], 'H': rj['H'], 'T': rj['T'], 'L': rj['L'], 'state': rcm.state_dict(),
                'info': {'recovered_from': model_id}, 'data': data}, path)

if __name__ == '__main__':
    main()
