"""How busy are the training crops next to Kodak's? Detail of a crop = mean squared residual
after its 1/16 base (average-pooled by 16, bilinear back up): what the tokens must code.

    python training/crop_stats.py [--scale-min 0.3 --scale-max 1.0] [--n 1000]

Prints quantiles (x 1e-3, RGB in [0, 1]) of 128-px crops: 40 random crops of each Kodak image
(the evaluation set; read for this statistic only, never trained on) and --n crops drawn like
train.py's Sampler with the given rescale range.
"""
import argparse
import glob
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mrt  # noqa: E402

CROP = 128


def detail(a):
    """a: uint8 [H, W, 3] -> mean squared residual after the 1/16 base."""
    t = torch.from_numpy(a.astype(np.float32) / 255).permute(2, 0, 1)[None]
    up = F.interpolate(F.avg_pool2d(t, mrt.BASE_FACTOR), scale_factor=mrt.BASE_FACTOR, mode='bilinear', align_corners=False)
    return float(((t - up) ** 2).mean())


def quantiles(v):
    v = np.array(v)
    return ' '.join(f'{np.quantile(v, p) * 1e3:6.2f}' for p in (0.1, 0.25, 0.5, 0.75, 0.9)) + f'   mean {v.mean() * 1e3:.2f}'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--scale-min', type=float, default=0.3)
    ap.add_argument('--scale-max', type=float, default=1.0)
    ap.add_argument('--n', type=int, default=1000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    kodak = []
    for f in sorted(glob.glob(os.path.join(mrt.KODAK_DIR, 'kodim*.png'))):
        a = np.asarray(Image.open(f).convert('RGB'))
        for _ in range(40):
            y, x = rng.integers(0, a.shape[0] - CROP + 1), rng.integers(0, a.shape[1] - CROP + 1)
            kodak.append(detail(a[y:y + CROP, x:x + CROP]))
    imgs, _ = mrt.load_cache()
    ids = [i for i in range(len(imgs)) if not mrt.is_holdout(i)]
    s = mrt.Sampler(imgs, ids, crop=CROP, seed=1, smin=args.scale_min, smax=args.scale_max)
    train = [detail(np.asarray(s.square(lambda h, w: CROP))) for _ in range(args.n)]
    print('quantiles 10 / 25 / 50 / 75 / 90 % of the detail (x 1e-3)')
    print(f'kodak ({len(kodak)} crops)          {quantiles(kodak)}')
    print(f'train, scale {args.scale_min}..{args.scale_max} ({args.n})  {quantiles(train)}')


if __name__ == '__main__':
    main()
