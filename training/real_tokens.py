"""The real encoder's tokens and bases for the training images, and crops of them for training
the decoder on exactly what it decodes in deployment (train.py --real-tokens).

The tokens from `mrt encode` differ from the PyTorch encoder's rounding: the closed loop
(src/encoder/tail-rdo.ts) re-chooses every layer from 32 on against the decoder and the bits.
A decoder trained only on rounded tokens never sees those.

    python training/real_tokens.py --models models --out training/runs/s14real/real   # ~15 min, 2 processes
    (--data SET or MRT_DATA: the training set, training/datasets.py)
"""
import argparse
import os
import signal
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
import mrt  # noqa: E402
from train_rcm import run_encoder_tokens, sizes_for  # noqa: E402


def build(models_dir, files, ids, seed, path, jobs=2, data=None):
    """Encodes files[ids] (at sizes_for's sizes, as train_rcm.py --encoder-tokens) with the real
    encoder; saves {'paths', 'sizes', 'tokens', 'bases', 'data'} to `path` (data: the images'
    datasets.record, which train.py --real-tokens carries into its checkpoints)."""
    if os.path.exists(path):
        d = torch.load(path, weights_only=False)
        if data and datasets.of_checkpoint(d)['sets'] != data['sets']:
            raise SystemExit(f'{path} holds tokens of the {"/".join(datasets.of_checkpoint(d)["sets"])} set, '
                             f'not {"/".join(data["sets"])}: use another --out')
        return d
    sizes = sizes_for(files, ids, seed)
    items = [{'path': files[i], 'width': w, 'height': h} for i, (w, h) in zip(ids, sizes)]
    toks, bases = run_encoder_tokens(models_dir, items, os.path.abspath(path), jobs, bases=True)
    d = {'paths': [it['path'] for it in items], 'sizes': [(it['width'], it['height']) for it in items], 'tokens': toks, 'bases': bases,
         'data': data}
    torch.save(d, path)
    return d


def padded_image(path, size, window=mrt.WINDOW):
    """The image as the encoder saw it: resized (Lanczos) to `size`, edge-padded to the window grid."""
    a = np.asarray(Image.open(path).convert('RGB').resize(size, Image.LANCZOS))
    h, w = a.shape[:2]
    ph, pw = -(-h // window) * window, -(-w // window) * window
    return np.pad(a, ((0, ph - h), (0, pw - w), (0, 0)), mode='edge')


class RealSampler:
    """Window-aligned crops of (image, base, real tokens): crop // window windows a side."""

    def __init__(self, d, crop=128, window=mrt.WINDOW, base_factor=mrt.BASE_FACTOR, seed=0):
        self.d, self.crop, self.win, self.bf = d, crop, window, base_factor
        self.rng = np.random.default_rng(seed)
        self.imgs = [padded_image(p, s, window) for p, s in zip(d['paths'], d['sizes'])]
        self.ok = [i for i, t in enumerate(d['tokens']) if t.shape[1] * window >= crop and t.shape[2] * window >= crop]

    def one(self, i=None):
        i = self.ok[self.rng.integers(len(self.ok))] if i is None else i
        t = self.d['tokens'][i]
        n = self.crop // self.win
        gy, gx = int(self.rng.integers(t.shape[1] - n + 1)), int(self.rng.integers(t.shape[2] - n + 1))
        y, x = gy * self.win, gx * self.win
        img = self.imgs[i][y:y + self.crop, x:x + self.crop]
        s = self.win // self.bf
        base = self.d['bases'][i][gy * s:(gy + n) * s, gx * s:(gx + n) * s]
        to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).float() / 255.0
        return to_t(img), to_t(base), t[:, gy:gy + n, gx:gx + n].long()

    def batch(self, n):
        xs, bs, ks = zip(*(self.one() for _ in range(n)))
        return torch.stack(xs), torch.stack(bs), torch.stack(ks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', default=os.path.join(mrt.ROOT, 'models'))
    ap.add_argument('--out', required=True, help='path prefix: writes PREFIX_train.pt and PREFIX_hold.pt')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--limit', type=int, default=0, help='only the first N images of each split (smoke test)')
    mrt.add_data_arg(ap)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ims = datasets.images(args.data)
    files = [im.path for im in ims]
    ids = range(len(files))
    hold = [i for i in ids if mrt.is_holdout(i)]
    train = [i for i in ids if not mrt.is_holdout(i)]
    if args.limit:
        hold, train = hold[:args.limit], train[:args.limit]
    t0 = time.time()
    rec = lambda ids_: datasets.record(args.data, [ims[i] for i in ids_])  # noqa: E731
    ho = build(args.models, files, hold, 1, args.out + '_hold.pt', args.jobs, rec(hold))
    print(f'held-out: {len(ho["tokens"])} images, {time.time() - t0:.0f}s', flush=True)
    tr = build(args.models, files, train, 2, args.out + '_train.pt', args.jobs, rec(train))
    print(f'train: {len(tr["tokens"])} images, {time.time() - t0:.0f}s', flush=True)


if __name__ == '__main__':
    main()
