"""Kodak evaluation in Python: PSNR / MS-SSIM per token-layer count with estimated bytes.

    python training/eval.py --ckpt training/runs/main/best.pt --rcm training/runs/main/rcm.pt
Bytes of a prefix with k full layers = header + placeholder WebP (+ index + per-chunk
overhead * k + ceil(RCM code length of layers < k / 8) when k > 0). The placeholder is fitted to --base-bytes like
the encoder does. Writes a JSON report (--json) and prints tables.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mrt  # noqa: E402

BUDGETS = [256, 512, 1024, 2048, 4096, 8192]
KS = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]
BAR = {256: 20.40, 512: 21.54, 1024: 22.65, 2048: 23.99, 4096: 25.18, 8192: 26.13}


def _gauss(size=11, sigma=1.5):
    x = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    return (g / g.sum()).float()


def ms_ssim(x, y):
    """MS-SSIM (Wang et al. 2003), data range 1, 11x11 gaussian, 5 scales, mean over RGB."""
    w = torch.tensor([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
    g = _gauss()
    k = (g[:, None] * g[None, :])[None, None].repeat(3, 1, 1, 1)
    C1, C2 = 0.01 ** 2, 0.03 ** 2
    mcs = []
    for s in range(5):
        mu_x = F.conv2d(x, k, groups=3)
        mu_y = F.conv2d(y, k, groups=3)
        sxx = F.conv2d(x * x, k, groups=3) - mu_x ** 2
        syy = F.conv2d(y * y, k, groups=3) - mu_y ** 2
        sxy = F.conv2d(x * y, k, groups=3) - mu_x * mu_y
        cs = (2 * sxy + C2) / (sxx + syy + C2)
        if s < 4:
            mcs.append(torch.relu(cs.mean((2, 3))))
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
        else:
            ssim = ((2 * mu_x * mu_y + C1) / (mu_x ** 2 + mu_y ** 2 + C1) * cs).mean((2, 3))
    vals = torch.stack(mcs + [torch.relu(ssim)], 0)  # [5, B, 3]
    return torch.prod(vals ** w[:, None, None], 0).mean(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(mrt.RUNS, 'main', 'best.pt'))
    ap.add_argument('--rcm', default=None)
    # defaults follow src/encoder (first paint = 25 B framing + placeholder <= 256 B); the
    # Index (chunk table) comes after the first paint and before the first token chunk
    ap.add_argument('--base-bytes', type=int, default=231)
    ap.add_argument('--header', type=int, default=25)
    ap.add_argument('--index-bytes', type=int, default=60)
    ap.add_argument('--chunk-overhead', type=int, default=3)
    ap.add_argument('--images', type=int, default=24)
    ap.add_argument('--no-msssim', action='store_true')
    ap.add_argument('--json', default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck, enc, dec, rate = mrt.load_encoder(args.ckpt)
    T, L = ck['cfg']['T'], ck['cfg']['L']
    rcm = None
    if args.rcm:
        rk = torch.load(args.rcm, weights_only=False)
        rcm = mrt.RCM(rk.get('T', T), L, rk['D'], rk['H'])
        rcm.load_state_dict(rk['state'])
    files = sorted(glob.glob(os.path.join(mrt.KODAK_DIR, '*.png')))[:args.images]
    per = []
    t0 = time.time()
    for f in files:
        a = np.asarray(Image.open(f).convert('RGB'))
        H, W = a.shape[:2]
        img = Image.fromarray(mrt.pad32(a))
        base, bbytes, q = mrt.base_for_budget(img, args.base_bytes)
        x, b = mrt.to_t(img)[None], mrt.to_t(base)[None]
        with torch.no_grad():
            z = enc(x, b)
            k, v = mrt.fsq(z, L)
        sb = mrt.static_bits(k[0].numpy(), L)
        layer_static = sb.sum((1, 2))
        if rcm is None:
            layer_rcm = layer_static
        else:  # layers past the RCM's are coded with the static prior (docs/design.md)
            layer_rcm = np.concatenate([mrt.rcm_bits(rcm, k[0, :rcm.T]).sum((1, 2)), layer_static[rcm.T:]])
        ntok = k[0, 0].numel()
        rec = {'image': os.path.basename(f), 'base_bytes': bbytes, 'base_q': q, 'windows': ntok,
               'layer_bits_rcm': layer_rcm.tolist(), 'layer_bits_static': layer_static.tolist(),
               'zero_frac': (k[0] == (L - 1) // 2).float().mean().item()}
        for key, lb in (('bytes_rcm', layer_rcm), ('bytes_static', layer_static)):
            cum = np.concatenate([[0], np.cumsum(lb)])
            rec[key] = [args.header + bbytes + (args.index_bytes if n else 0) + n * args.chunk_overhead
                        + math.ceil(cum[n] / 8) for n in range(T + 1)]
        # decode only the prefixes the tables need: the fixed k list and each budget's cut
        need = set(n for n in KS if n <= T) | {T, min(8, T)}
        for B in BUDGETS:
            ok = [n for n in range(T + 1) if rec['bytes_rcm'][n] <= B]
            if ok:
                need.add(max(ok))
        psnrs, ssims = {}, {}
        xt = x[..., :H, :W]
        with torch.no_grad():
            for n in sorted(need):
                m = torch.zeros_like(v)
                m[:, :n] = 1
                y = dec(v * m, m, b)[..., :H, :W]
                psnrs[n] = mrt.psnr(y, xt).item()
                ssims[n] = ms_ssim(y, xt).item() if not args.no_msssim else None
            lanczos = mrt.to_t(base.resize((img.size[0], img.size[1]), Image.LANCZOS))[None][..., :H, :W]
            bil = mrt.up16(b)[..., :H, :W]
        rec.update({'psnr': psnrs, 'msssim': ssims,
                    'psnr_base_lanczos': mrt.psnr(lanczos, xt).item(),
                    'psnr_base_bilinear': mrt.psnr(bil, xt).item()})
        per.append(rec)
        print(f"{rec['image']}: base {bbytes} B q{q} lanczos {rec['psnr_base_lanczos']:.2f} k0 {psnrs[0]:.2f} "
              f"k{min(8, T)} {psnrs[min(8, T)]:.2f} k{T} {psnrs[T]:.2f} dB, {rec['bytes_rcm'][-1]} B ({time.time() - t0:.0f}s)", flush=True)

    ks = [n for n in KS if n <= T]
    print('\nKodak mean per token-layer count k (full layers received):')
    print('  k | PSNR dB | MS-SSIM | est. bytes (RCM) | est. bytes (static)')
    table = []
    for n in ks:
        row = {'k': n, 'psnr': float(np.mean([r['psnr'][n] for r in per])),
               'msssim': None if args.no_msssim else float(np.mean([r['msssim'][n] for r in per])),
               'bytes_rcm': float(np.mean([r['bytes_rcm'][n] for r in per])),
               'bytes_static': float(np.mean([r['bytes_static'][n] for r in per]))}
        table.append(row)
        ms = f"{row['msssim']:.4f}" if row['msssim'] is not None else '   -  '
        print(f"{n:3d} | {row['psnr']:7.2f} | {ms} | {row['bytes_rcm']:8.0f} | {row['bytes_static']:8.0f}")
    tot_tokens = sum(r['windows'] * T for r in per)
    bpt_rcm = sum(sum(r['layer_bits_rcm']) for r in per) / tot_tokens
    bpt_static = sum(sum(r['layer_bits_static']) for r in per) / tot_tokens
    print(f'\nbits/token over all {T} layers: RCM {bpt_rcm:.4f}, static adaptive {bpt_static:.4f}')
    for lim in (8, 16):
        a_ = sum(sum(r['layer_bits_rcm'][:lim]) for r in per) / sum(r['windows'] * lim for r in per)
        b_ = sum(sum(r['layer_bits_static'][:lim]) for r in per) / sum(r['windows'] * lim for r in per)
        print(f'bits/token first {lim} layers: RCM {a_:.4f}, static {b_:.4f}')
    print('\nBudget B: mean PSNR of the largest full-layer prefix within B (RCM bytes); bar = best thumbnail')
    print('     B | PSNR  | MS-SSIM | mean k | bar   | delta | images with nothing')
    budgets = []
    for B in BUDGETS:
        ps, ss, kk, none = [], [], [], 0
        for r in per:
            ok = [n for n in range(T + 1) if r['bytes_rcm'][n] <= B]
            if not ok:
                none += 1
                continue
            n = max(ok)
            ps.append(r['psnr'][n])
            ss.append(r['msssim'][n])
            kk.append(n)
        row = {'B': B, 'psnr': float(np.mean(ps)) if ps else None,
               'msssim': float(np.mean(ss)) if ps and not args.no_msssim else None,
               'mean_k': float(np.mean(kk)) if kk else None, 'bar': BAR[B], 'nothing': none}
        budgets.append(row)
        if ps:
            ms = f"{row['msssim']:.4f}" if row['msssim'] is not None else '   -  '
            print(f"{B:6d} | {row['psnr']:.2f} | {ms}  | {row['mean_k']:5.1f}  | {BAR[B]:.2f} | {row['psnr'] - BAR[B]:+.2f} | {none}")
        else:
            print(f'{B:6d} | nothing decodable (header + base > B)')
    lz = float(np.mean([r['psnr_base_lanczos'] for r in per]))
    bl = float(np.mean([r['psnr_base_bilinear'] for r in per]))
    print(f'\nplaceholder alone: lanczos x16 {lz:.2f} dB, bilinear {bl:.2f} dB; decoder k=0 {table[0]["psnr"]:.2f} dB; '
          f'mean base bytes {np.mean([r["base_bytes"] for r in per]):.0f}')
    if args.json:
        json.dump({'ckpt': args.ckpt, 'step': ck.get('step'), 'rcm': args.rcm, 'args': vars(args),
                   'table': table, 'budgets': budgets, 'bits_per_token': {'rcm': bpt_rcm, 'static': bpt_static},
                   'placeholder_psnr': {'lanczos': lz, 'bilinear': bl}, 'per_image': per},
                  open(args.json, 'w'))


if __name__ == '__main__':
    main()
