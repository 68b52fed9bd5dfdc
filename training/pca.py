"""PCA (KLT) of the residual windows (image - bilinear x16 of the WebP base).

    python training/pca.py --out training/runs/pca.pt [--images 400] [--data open]
The top-T principal components, ordered by variance, are a closed-form coarse-to-fine
token basis; train.py --pca uses them to initialise the linear analysis/synthesis paths.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
import mrt  # noqa: E402


def residual_windows(a, q):
    img = Image.fromarray(mrt.pad32(a))
    base, _ = mrt.make_base(img, q)
    x, b = mrt.to_t(img)[None], mrt.to_t(base)[None]
    r = x - mrt.up16(b)
    _, C, H, W = r.shape
    w = r.reshape(C, H // 32, 32, W // 32, 32).permute(1, 3, 0, 2, 4).reshape(-1, C * 1024)
    return w.double()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(mrt.RUNS, 'pca.pt'))
    ap.add_argument('--images', type=int, default=400)
    ap.add_argument('--components', type=int, default=256, help='principal components kept (>= the T of any model grown from them)')
    ap.add_argument('--tiny', action='store_true', help='smoke test: the first 12 training images, no cache')
    mrt.add_data_arg(ap)
    args = ap.parse_args()
    torch.set_num_threads(1)
    imgs = mrt.tiny_images(data=args.data) if args.tiny else mrt.load_cache(args.data)[0]
    rng = np.random.default_rng(0)
    ids = [i for i in range(len(imgs)) if not mrt.is_holdout(i)]
    ids = list(rng.permutation(ids)[:args.images])
    cov = torch.zeros(3072, 3072, dtype=torch.float64)
    n = 0
    t0 = time.time()
    for i in ids:
        a = imgs[i]
        h, w = a.shape[:2]
        s = min(1.0, rng.uniform(512, 1024) / max(h, w))
        if s < 1:
            a = np.asarray(Image.fromarray(a).resize((max(32, round(w * s)), max(32, round(h * s))), Image.LANCZOS))
        X = residual_windows(a, int(rng.integers(5, 61)))
        cov += X.t() @ X
        n += X.shape[0]
    cov /= n
    ev, U = torch.linalg.eigh(cov)
    ev, U = ev.flip(0), U.flip(1)
    print(f'{n} windows from {len(ids)} images, {time.time() - t0:.0f}s; top eigen std:',
          [round(float(e) ** 0.5, 3) for e in ev[:8]], 'std@64', float(ev[63]) ** 0.5, flush=True)
    k = args.components
    # the images sampled (of the set's non-held-out ones): train.py --pca / --grow carries them into its checkpoints
    data = datasets.record(args.data, [datasets.images(args.data)[i] for i in ids])
    torch.save({'U': U[:, :k].float(), 'ev': ev[:k].float(), 'n': n, 'data': data}, args.out)


if __name__ == '__main__':
    main()
