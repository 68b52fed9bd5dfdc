"""MRT v0 learned codec: models, quantiser, rate proxy, data pipeline.

Shared by train.py, export.py, eval.py, train_rcm.py. The I/O contract of the exported
models is docs/design.md (window 32, base at 1/16, T tokens of L FSQ levels).
"""
from __future__ import annotations

import glob
import io
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

if os.path.dirname(os.path.abspath(__file__)) not in sys.path:  # training/datasets.py, whoever imports mrt
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = datasets.DATA
TRAIN_DIR = os.path.join(DATA, 'train')
KODAK_DIR = os.path.join(DATA, 'kodak')
RUNS = os.path.join(ROOT, 'training', 'runs')

WINDOW = 32
BASE_FACTOR = 16


# ----------------------------------------------------------------------------- models

def conv(cin, cout, k=3, s=1):
    return nn.Conv2d(cin, cout, k, s, (k - 1) // 2 if s == 1 else (k - s + 1) // 2 if k > s else 0)


class Res(nn.Module):
    """x + conv(relu(conv(x))); second conv starts small so a fresh block is ~identity."""

    def __init__(self, c, mid, k=3):
        super().__init__()
        self.a = nn.Conv2d(c, mid, k, 1, k // 2)
        self.b = nn.Conv2d(mid, c, k, 1, k // 2)
        with torch.no_grad():
            self.b.weight.mul_(0.1)
            self.b.bias.zero_()

    def forward(self, x):
        return x + self.b(F.relu(self.a(x)))


def up16(base):
    return F.interpolate(base, scale_factor=16.0, mode='bilinear', align_corners=False)


class ClipInward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(-1.0, 1.0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        keep = (x.abs() <= 1) | (g * x > 0)  # descent moves x by -g: inward when sign(g) == sign(x)
        return g * keep


class Encoder(nn.Module):
    """image [1,3,Hp,Wp] + base [1,3,Hp/16,Wp/16] -> z [1,T,Hp/32,Wp/32] in (-1,1)."""

    def __init__(self, T=64, c=(48, 96, 112, 128), nres=2, lin=False, bound='tanh', nresb=0, midb=128):
        super().__init__()
        self.bound = bound
        self.overflow = torch.zeros(())
        c0, c1, c2, c3 = c
        # optional linear analysis of the residual window (PCA/KLT-initialised by train.py --pca)
        self.lin = nn.Conv2d(3, T, WINDOW, WINDOW, bias=False) if lin else None
        self.c0 = nn.Conv2d(6, c0, 4, 4)                 # 1/4
        self.c1 = nn.Conv2d(c0, c1, 3, 2, 1)             # 1/8
        self.c2 = nn.Conv2d(c1 + 0, c2, 3, 2, 1)         # 1/16
        self.bproj = nn.Conv2d(3, c2, 3, 1, 1)           # base at 1/16
        self.c3 = nn.Conv2d(c2, c3, 3, 2, 1)             # 1/32
        self.res = nn.Sequential(*[Res(c3, c3 // 2) for _ in range(nres)])
        # extra (wider) blocks at 1/32: analysis capacity costs nothing at decode time
        self.resb = nn.Sequential(*[Res(c3, midb) for _ in range(nresb)]) if nresb else None
        self.out = nn.Conv2d(c3, T, 1)

    def forward(self, image, base):
        up = up16(base)
        x = torch.cat([image - 0.5, image - up], 1)
        x = F.relu(self.c0(x))
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x) + self.bproj(base - 0.5))
        x = F.relu(self.c3(x))
        x = self.res(x)
        if self.resb is not None:
            x = self.resb(x)
        pre = self.out(x)
        if self.lin is not None:
            pre = pre + self.lin(image - up)
        if self.bound == 'clip':
            # hard bound in the graph (Clip); in training the gradient passes the bound only
            # when it points back inside (a plain straight-through clip lets pre-activations
            # run away, a plain clip freezes saturated tokens)
            if self.training:
                return ClipInward.apply(pre)
            return pre.clamp(-1.0, 1.0)
        return torch.tanh(pre)


class Decoder(nn.Module):
    """(z*mask, mask, base) -> image. Heavy work at 1/32 and 1/16, thin pixel-shuffle
    stages up to full resolution; output = bilinear(base) + residual, clamped."""

    def __init__(self, T=64, c32=96, nres32=3, c16=48, c8=32, c4=16, c2=8, cb=24, lin=False,
                 nres32b=0, mid32b=96, seam=(), xres=()):
        super().__init__()
        # seam = strides s of SEAM_STRIDES (mrt-v0.12: 8, 4, 2): the stage at 1/s also sees the
        # linear image (bilinear base + linear synthesis) through a conv s x s / s, so it can
        # correct that image's window seams and the basis patterns of coarse-only tokens (without
        # it, the linear image is added after every conv). 3c multiply-adds per output pixel for
        # a stage of c channels (96 / 48 / 24 at 1/8 / 1/4 / 1/2). Zero-initialised by add_seam:
        # the grown model starts as the old one.
        assert all(s_ in SEAM_STRIDES for s_ in seam) and (not seam or lin), f'seam strides in {SEAM_STRIDES}, with lin'
        ch = {16: c16, 8: c8, 4: c4, 2: c2}
        for s_ in SEAM_STRIDES:
            setattr(self, seam_name(s_), nn.Conv2d(3, ch[s_], s_, s_) if s_ in seam else None)
        # xres = strides s of XRES_STRIDES: one more Res(c, c) block after the stage at 1/s
        # (18c^2/s^2 multiply-adds per output pixel: 162 / 288 / 288 / 288 at 1/16 ... 1/2).
        # Identity-initialised by add_xres: the grown model starts as the old one.
        assert all(s_ in XRES_STRIDES for s_ in xres), f'xres strides in {XRES_STRIDES}'
        for s_ in XRES_STRIDES:
            setattr(self, xres_name(s_), Res(ch[s_], ch[s_]) if s_ in xres else None)
        # optional linear synthesis: token values -> 32x32 RGB residual per window (DepthToSpace 32)
        self.lin = nn.Conv2d(T, 3 * WINDOW * WINDOW, 1, bias=False) if lin else None
        self.ps32 = nn.PixelShuffle(WINDOW)
        self.b16 = nn.Conv2d(3, cb, 3, 1, 1)
        self.b32 = nn.Conv2d(cb, 32, 3, 2, 1)
        self.inp = nn.Conv2d(2 * T + 32, c32, 1)
        self.res32 = nn.Sequential(*[Res(c32, c32 // 2) for _ in range(nres32)])
        # extra (wider) blocks at 1/32, where a multiply-add costs 1/1024 per pixel (mrt-v0.7)
        self.res32b = nn.Sequential(*[Res(c32, mid32b) for _ in range(nres32b)]) if nres32b else None
        self.up16 = nn.Conv2d(c32, 4 * c16, 1)
        self.mix16 = nn.Conv2d(c16 + cb, c16, 3, 1, 1)
        self.res16 = Res(c16, c16)
        self.up8 = nn.Conv2d(c16, 4 * c8, 1)
        self.res8 = Res(c8, c8)
        self.up4 = nn.Conv2d(c8, 4 * c4, 1)
        self.res4 = Res(c4, c4)
        self.up2 = nn.Conv2d(c4, 4 * c2, 1)
        self.res2 = Res(c2, c2)
        self.out = nn.Conv2d(c2, 12, 1)
        with torch.no_grad():
            self.out.weight.mul_(0.1)
            self.out.bias.zero_()
        self.ps = nn.PixelShuffle(2)

    def trunk32(self, x):
        x = self.res32(x)
        return x if self.res32b is None else self.res32b(x)

    def forward(self, z, mask, base):
        b16 = F.relu(self.b16(base - 0.5))
        b32 = F.relu(self.b32(b16))
        x = self.inp(torch.cat([z, mask, b32], 1))
        x = F.relu(self.trunk32(x))
        x = self.ps(self.up16(x))
        x = F.relu(self.mix16(torch.cat([x, b16], 1)))
        x = self.stage_res(16, self.res16, x)
        li = up16(base) + self.ps32(self.lin(z)) if self.lin is not None else up16(base)
        for s_, up, res in ((8, self.up8, self.res8), (4, self.up4, self.res4), (2, self.up2, self.res2)):
            x = self.ps(up(x))
            seam = getattr(self, seam_name(s_))
            if seam is not None:
                x = x + seam(li - 0.5)
            x = self.stage_res(s_, res, x)
        return torch.clamp(li + self.ps(self.out(x)), 0.0, 1.0)

    def stage_res(self, s_, res, x):
        """The stage at 1/s_'s res block, then its xres block if it has one."""
        x = F.relu(res(x))
        extra = getattr(self, xres_name(s_))
        return x if extra is None else F.relu(extra(x))


def fsq(z, L):
    """Quantise z in [-1,1] to L levels; returns (token ints, values with straight-through grad)."""
    half = (L - 1) / 2
    k = torch.clamp(torch.round((z + 1) * half), 0, L - 1)
    v = k / half - 1
    return k.long(), z + (v - z).detach()


class RateModel(nn.Module):
    """Differentiable bit estimate: per-layer zero-mean discretised Laplace over FSQ bins."""

    def __init__(self, T, L):
        super().__init__()
        self.L = L
        self.log_b = nn.Parameter(torch.full((T,), math.log(0.3)))

    def bits(self, v):
        L = self.L
        d = 1.0 / (L - 1)  # half bin width in value units (bin width 2/(L-1))
        b = torch.exp(self.log_b)[None, :, None, None]
        a = v.abs()
        # P(bin) for a symmetric Laplace: mass between |v|-d and |v|+d (edge bins reach infinity)
        hi = torch.exp(-(a + d) / b)
        lo = torch.exp(-torch.clamp(a - d, min=0) / b)
        centre = a < d
        p_mid = 0.5 * (lo - hi)
        p_c = 1 - 0.5 * (hi + torch.exp(-torch.clamp(d - a, min=0) / b))  # bin (a-d, a+d) around 0
        p_edge = 0.5 * lo                                     # outermost bin: (1-d, inf)
        edge = a > 1 - d * 0.5
        p = torch.where(centre, p_c, torch.where(edge, p_edge, p_mid))
        return -torch.log2(torch.clamp(p, min=1e-9))

    def coarse_bits(self, v):
        """Bits of v's coarse trit (container 2.8: levels 3c..3c+2 of L = 9) under the same
        Laplace: the centre bin spans 1.5 level steps each side of 0."""
        h = 3.0 / (self.L - 1)  # half width of the centre coarse bin in value units
        b = torch.exp(self.log_b)[None, :, None, None]
        tail = torch.exp(-h / b)
        p = torch.where(v.abs() < h, 1 - tail, 0.5 * tail)
        return -torch.log2(torch.clamp(p, min=1e-9))


def count_macs(model, *inputs):
    """Multiply-adds of Conv layers (the rest is negligible) for the given inputs."""
    total = [0]

    def hook(m, i, o):
        cin = m.in_channels // m.groups
        total[0] += o.numel() * cin * m.kernel_size[0] * m.kernel_size[1]

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(*inputs)
    for h in hs:
        h.remove()
    return total[0]


def nparams(m):
    return sum(p.numel() for p in m.parameters())


# ----------------------------------------------------------------------------- RCM

class RCM(nn.Module):
    """Learned prior in the deterministic form of docs/design.md (trained in float32/64,
    evaluated the same way in TypeScript)."""

    def __init__(self, T, L, D=16, H=32):
        super().__init__()
        self.T, self.L, self.D, self.H = T, L, D, H
        self.decay_logit = nn.Parameter(torch.linspace(0.0, 3.0, D))
        self.E_self = nn.Parameter(torch.randn(T, L, D) * 0.1)
        self.P = nn.Parameter(torch.randn(T, D) * 0.1)
        self.N_left = nn.Parameter(torch.randn(L + 1, D) * 0.1)
        self.N_up = nn.Parameter(torch.randn(L + 1, D) * 0.1)
        self.N_ul = nn.Parameter(torch.randn(L + 1, D) * 0.1)
        self.N_ur = nn.Parameter(torch.randn(L + 1, D) * 0.1)
        self.W1 = nn.Parameter(torch.randn(H, D) / math.sqrt(D))
        self.b1 = nn.Parameter(torch.zeros(H))
        self.W2 = nn.Parameter(torch.randn(L, H) * 0.01)
        self.b2 = nn.Parameter(torch.zeros(L))

    def decay(self):
        return torch.sigmoid(self.decay_logit)

    def logits(self, k):
        """k: long [B, T, gh, gw] -> logits [B, T, gh, gw, L] for every token given its
        causal context in stream order."""
        B, T, gh, gw = k.shape
        L = self.L
        kp = F.pad(k, (1, 1, 1, 0), value=L)  # pad left/right/top with the border index
        left = kp[:, :, 1:, 0:gw]
        up = kp[:, :, 0:gh, 1:gw + 1]
        ul = kp[:, :, 0:gh, 0:gw]
        ur = kp[:, :, 0:gh, 2:gw + 2]
        dec = self.decay()
        hs = []
        h = torch.zeros(B, gh, gw, self.D, dtype=self.P.dtype)
        for t in range(T):
            hs.append(h)
            h = dec * h + self.E_self[t][k[:, t]]
        h = torch.stack(hs, 1)  # [B,T,gh,gw,D]
        a = h + self.P[None, :, None, None, :]
        a = a + self.N_left[left] + self.N_up[up] + self.N_ul[ul] + self.N_ur[ur]
        u = F.relu(a @ self.W1.t() + self.b1)
        return u @ self.W2.t() + self.b2

    def tensors(self):
        return {
            'decay': self.decay(), 'E_self': self.E_self, 'P': self.P,
            'N_left': self.N_left, 'N_up': self.N_up, 'N_ul': self.N_ul, 'N_ur': self.N_ur,
            'W1': self.W1, 'b1': self.b1, 'W2': self.W2, 'b2': self.b2,
        }


M_TOTAL = 1 << 15


def quantise_freqs(p):
    """p: float64 [..., L] probabilities -> integer frequencies per design.md."""
    L = p.shape[-1]
    f = 1 + np.floor(p * (M_TOTAL - L)).astype(np.int64)
    rem = M_TOTAL - f.sum(-1)
    idx = np.argmax(p, -1)  # lowest index on ties
    np.put_along_axis(f, idx[..., None], np.take_along_axis(f, idx[..., None], -1) + rem[..., None], -1)
    return f


def rcm_bits(rcm, k):
    """Exact code length (bits) per token [T, gh, gw] with quantised frequencies, float64."""
    with torch.no_grad():
        r64 = RCM(rcm.T, rcm.L, rcm.D, rcm.H).double()
        r64.load_state_dict({n: p.double() for n, p in rcm.state_dict().items()})
        # the exported decay is float32: use exactly the float32 values widened
        lg = r64.logits(k[None])[0].numpy()
    lg = lg - lg.max(-1, keepdims=True)
    p = np.exp(lg)
    p /= p.sum(-1, keepdims=True)
    f = quantise_freqs(p)
    kk = k.numpy()
    fk = np.take_along_axis(f, kk[..., None], -1)[..., 0]
    return -np.log2(fk / M_TOTAL)


def static_bits(k, L):
    """Code length of the static adaptive per-layer prior (design.md) per token [T, gh, gw]."""
    T, gh, gw = k.shape
    out = np.zeros((T, gh, gw))
    for t in range(T):
        c = np.ones(L, np.int64)
        for y in range(gh):
            for x in range(gw):
                s = int(k[t, y, x])
                p = c / c.sum()
                f = quantise_freqs(p[None])[0]
                out[t, y, x] = -math.log2(f[s] / M_TOTAL)
                c[s] += 24
                if c.sum() > (1 << 13):
                    c = (c + 1) // 2
    return out


# ----------------------------------------------------------------------------- data

def add_data_arg(ap):
    """--data NAME: the training set (training/datasets.py: research, open, open-sa); default the
    MRT_DATA environment variable, else 'research' (every release up to mrt-v0.13)."""
    default = os.environ.get('MRT_DATA') or datasets.DEFAULT
    if default not in datasets.SETS:
        raise SystemExit(f'MRT_DATA={default!r}: not a training set ({", ".join(datasets.SETS)})')
    ap.add_argument('--data', default=default, choices=datasets.SETS,
                    help=f'training set (training/datasets.py; default $MRT_DATA or research, now {default})')


def list_train(data=datasets.DEFAULT):
    """The image paths of training set `data`, in its fixed order (is_holdout indexes it)."""
    return datasets.files(data)


def tiny_images(n=12, data=datasets.DEFAULT):
    """The first n images of set `data`, decoded without the cache (the scripts' --tiny smoke runs)."""
    return [np.asarray(Image.open(f).convert('RGB')) for f in list_train(data)[:n]]


def data_record(data=datasets.DEFAULT, n=None):
    """The data record a checkpoint stores (datasets.record): set `data`, or its first n images
    (--tiny). Hold-out images count: they chose the checkpoint."""
    ims = datasets.images(data)
    return datasets.record(data, ims if n is None else ims[:n])


def is_holdout(i):
    return i % 64 == 7  # a fixed 1/64 of any set: 16 of research's 1,037 images, 7 of open's 443, spread over the folders


def load_cache(data=datasets.DEFAULT):
    """All images of set `data` decoded once into one uint8 buffer (training/runs/cache for
    research, training/runs/cache-<set> for the others); rebuilt when the set's image list changes
    (the open set may grow)."""
    cdir = os.path.join(RUNS, datasets.cache_dir_name(data))
    os.makedirs(cdir, exist_ok=True)
    bin_p, idx_p = os.path.join(cdir, 'train_u8.bin'), os.path.join(cdir, 'train_index.json')
    ims = datasets.images(data)
    names = [datasets.cache_key(data, im) for im in ims]
    fresh = os.path.exists(bin_p) and os.path.exists(idx_p) and [e['name'] for e in json.load(open(idx_p))] == names
    if not fresh:
        t0 = time.time()
        index, off = [], 0
        with open(bin_p + '.tmp', 'wb') as fh:
            for im, name in zip(ims, names):
                a = np.asarray(Image.open(im.path).convert('RGB'))
                fh.write(a.tobytes())
                index.append({'name': name, 'h': a.shape[0], 'w': a.shape[1], 'off': off})
                off += a.nbytes
        json.dump(index, open(idx_p + '.tmp', 'w'))
        os.replace(bin_p + '.tmp', bin_p)
        os.replace(idx_p + '.tmp', idx_p)
        print(f'cache built ({data}): {len(index)} images, {off / 1e9:.2f} GB, {time.time() - t0:.0f}s', flush=True)
    index = json.load(open(idx_p))
    buf = np.fromfile(bin_p, dtype=np.uint8)
    imgs = [buf[e['off']:e['off'] + e['h'] * e['w'] * 3].reshape(e['h'], e['w'], 3) for e in index]
    names = [e['name'] for e in index]
    return imgs, names


def webp_roundtrip(img: Image.Image, q: int):
    b = io.BytesIO()
    img.save(b, 'WEBP', quality=int(q), method=4)
    n = b.tell()
    b.seek(0)
    return Image.open(b).convert('RGB'), n


def avif_roundtrip(img: Image.Image, q: int, subsampling: str = '4:2:0'):
    """AVIF through Pillow's libavif (the encoder's placeholders are AVIF, 4:4:4 since container 2.7: src/encoder/placeholder.ts)."""
    b = io.BytesIO()
    img.save(b, 'AVIF', quality=int(q), speed=6, subsampling=subsampling)
    n = b.tell()
    b.seek(0)
    return Image.open(b).convert('RGB'), n


ROUNDTRIP = {'webp': webp_roundtrip, 'avif': avif_roundtrip, 'avif444': lambda img, q: avif_roundtrip(img, q, '4:4:4')}


def make_base(crop: Image.Image, q: int, fmt: str = 'webp'):
    w, h = crop.size
    small = crop.resize((w // BASE_FACTOR, h // BASE_FACTOR), Image.LANCZOS)
    return ROUNDTRIP[fmt](small, q)


def to_t(img):
    a = np.asarray(img, dtype=np.float32) / 255.0
    return torch.from_numpy(a).permute(2, 0, 1).contiguous()


class Sampler:
    """Random training crops (rescaled by a random factor first) with a simulated WebP (or AVIF) base."""

    def __init__(self, imgs, ids, crop=128, seed=0, qrange=(5, 60), smin=0.3, fmt='webp', smax=1.0):
        self.imgs, self.crop = imgs, crop
        self.ids = [i for i in ids if min(imgs[i].shape[:2]) >= crop]
        self.rng = np.random.default_rng(seed)
        self.qrange, self.smin, self.smax, self.fmt = qrange, smin, smax, fmt

    def square(self, side_of):
        """A random square of side side_of(h, w) from a random training image, rescaled by a
        random factor first (log-uniform in [smin, smax]; > 1 upscales), flipped half of the time."""
        r = self.rng
        a = self.imgs[self.ids[r.integers(len(self.ids))]]
        h, w = a.shape[:2]
        n = side_of(h, w)
        smin = max(self.smin, n / min(h, w))
        s = math.exp(r.uniform(math.log(smin), math.log(max(smin, self.smax))))  # output/source scale
        rs = min(int(round(n / s)), h, w)
        y, x = r.integers(0, h - rs + 1), r.integers(0, w - rs + 1)
        img = Image.fromarray(np.ascontiguousarray(a[y:y + rs, x:x + rs]))
        if rs != n:
            img = img.resize((n, n), Image.LANCZOS)
        if r.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return img

    def one(self):
        if self.fmt.startswith('avif'):
            return self.one_in_region()
        img = self.square(lambda h, w: self.crop)
        q = int(self.rng.integers(self.qrange[0], self.qrange[1] + 1))
        base, _ = make_base(img, q)
        return to_t(img), to_t(base)

    def one_in_region(self):
        """A crop whose base is cut from the coded base of a region up to twice its size: a
        real placeholder codes the whole image at 1/16, so the crop's base carries the codec's
        artefacts of an image interior, not of a tiny image of its own."""
        r, c = self.rng, self.crop
        region = self.square(lambda h, w: max(c, min(2 * c, min(h, w) // BASE_FACTOR * BASE_FACTOR)))
        R = region.size[0]
        q = int(r.integers(self.qrange[0], self.qrange[1] + 1))
        base, _ = make_base(region, q, self.fmt)
        n = (R - c) // BASE_FACTOR
        oy, ox = int(r.integers(0, n + 1)), int(r.integers(0, n + 1))
        img = region.crop((ox * BASE_FACTOR, oy * BASE_FACTOR, ox * BASE_FACTOR + c, oy * BASE_FACTOR + c))
        cb = c // BASE_FACTOR
        base = base.crop((ox, oy, ox + cb, oy + cb))
        return to_t(img), to_t(base)

    def batch(self, n):
        xs, bs = zip(*[self.one() for _ in range(n)])
        return torch.stack(xs), torch.stack(bs)


def val_set(imgs, ids, size=256, q=30, fmt='webp'):
    """Fixed held-out crops: short side resized to `size`, centre crop, base at quality q."""
    xs, bs = [], []
    for i in ids:
        a = imgs[i]
        h, w = a.shape[:2]
        s = size / min(h, w)
        img = Image.fromarray(a).resize((max(size, round(w * s)), max(size, round(h * s))), Image.LANCZOS)
        W, H = img.size
        img = img.crop(((W - size) // 2, (H - size) // 2, (W - size) // 2 + size, (H - size) // 2 + size))
        base, _ = make_base(img, q, fmt)
        xs.append(to_t(img))
        bs.append(to_t(base))
    return torch.stack(xs), torch.stack(bs)


def log_uniform(n, rng):
    """A length log-uniform in 1..n."""
    return min(n, int(math.exp(rng.uniform(0, math.log(n + 1)))))


def sample_k(B, T, rng):
    """Nested-dropout prefix length per sample: 10% none, 10% all, else log-uniform in 1..T."""
    ks = []
    for _ in range(B):
        u = rng.random()
        if u < 0.1:
            ks.append(0)
        elif u < 0.2:
            ks.append(T)
        else:
            ks.append(log_uniform(T, rng))
    return ks


def sample_stream(B, T, K, rng):
    """Stream lengths u (layers of the coarse-first order, K coarse layers) spread like the states
    a client decodes between 256 B and 8 KB: 10% none, 20% log-uniform inside the coarse pass
    (512 B-1 KB on Kodak), 60% uniform over the refinement and the layers after it (2-8 KB reach
    u = 210-600 with mrt-v0.9), 10% all. sample_k's log-uniform u puts 80% inside the coarse
    pass, where the encoder's prefixes spend little of the range."""
    us = []
    for _ in range(B):
        r = rng.random()
        if r < 0.1:
            us.append(0)
        elif r < 0.3:
            us.append(log_uniform(K, rng))
        elif r < 0.9:
            us.append(int(rng.integers(K, T + K + 1)))
        else:
            us.append(T + K)
    return us


def coarse_state(u, K):
    """(exact layers, layers known at least by their coarse trit) after u stream layers of the
    coarse-first order with K coarse layers (src/codec/layout.ts tokenProgress, in layers)."""
    if u <= K:
        return 0, u
    if u <= 2 * K:
        return u - K, K
    return u - K, u - K


def make_mask(ks, T, gh, gw, rng, partial=0.3):
    m = torch.zeros(len(ks), T, gh, gw)
    for i, k in enumerate(ks):
        m[i, :k] = 1
        if k < T and rng.random() < partial:  # a partially received next layer
            m[i, k] = torch.from_numpy((rng.random((gh, gw)) < rng.random()).astype(np.float32))
    return m


def psnr(a, b):
    mse = torch.mean((a - b) ** 2, dim=(1, 2, 3))
    return -10 * torch.log10(mse.clamp(min=1e-10))


def build(cfg):
    T, L = cfg['T'], cfg['L']
    enc = Encoder(T, **cfg.get('enc', {}))
    dec = Decoder(T, **cfg.get('dec', {}))
    rate = RateModel(T, L)
    return enc, dec, rate


def init_pca(enc, dec, pca_path, scale):
    """Linear paths = top-T principal components of residual windows: token t = tanh(c_t/scale),
    synthesis c_t = scale * v_t (atanh ~ identity near 0). The nonlinear encoder head starts at 0."""
    d = torch.load(pca_path)
    T = enc.lin.weight.shape[0]
    U = d['U'][:, :T]  # [3072, T], columns = components in (c, i, j) order
    with torch.no_grad():
        enc.lin.weight.copy_((U.t() / scale).reshape(T, 3, WINDOW, WINDOW))
        enc.out.weight.zero_()
        enc.out.bias.zero_()
        dec.lin.weight.copy_((U * scale)[:, :, None, None])


def inp_token_columns(T, P, n_in):
    """Columns of the decoder's input conv (input = cat([z (T), mask (T), base features]))
    that belong to the first P token layers, plus the base features: the layout that
    grow() copies into."""
    return list(range(P)) + list(range(T, T + P)) + list(range(2 * T, n_in))


def grow(enc, dec, rate, old, pca_path, scale):
    """Start a T-token model from a trained model with fewer tokens (same L): the first
    T0 token paths are copied, tokens T0..T-1 start as the next principal components
    (init_pca's scaling) with the nonlinear encoder head at 0 and no decoder input weight,
    so the grown model decodes every T0-prefix exactly as the old one did."""
    T, T0 = enc.lin.weight.shape[0], old['cfg']['T']
    assert T > T0 and old['cfg']['enc'].get('lin'), 'grow needs a smaller --lin checkpoint'
    U = torch.load(pca_path)['U'][:, :T]
    es, ds, rs = enc.state_dict(), dec.state_dict(), rate.state_dict()
    with torch.no_grad():
        for name, w in old['enc'].items():
            if name in ('lin.weight', 'out.weight', 'out.bias'):
                es[name].zero_()
                es[name][:T0] = w
            else:
                es[name].copy_(w)
        es['lin.weight'][T0:] = (U[:, T0:].t() / scale).reshape(T - T0, 3, WINDOW, WINDOW)
        for name, w in old['dec'].items():
            if name == 'lin.weight':
                ds[name][:, :T0] = w
                ds[name][:, T0:] = (U[:, T0:] * scale)[:, :, None, None]
            elif name == 'inp.weight':
                ds[name].zero_()
                ds[name][:, inp_token_columns(T, T0, ds[name].shape[1])] = w
            else:
                ds[name].copy_(w)
        rs['log_b'][:T0] = old['rate']['log_b']
        rs['log_b'][T0:] = old['rate']['log_b'][-1]
    enc.load_state_dict(es), dec.load_state_dict(ds), rate.load_state_dict(rs)


# the extra res blocks at 1/32 each module can grow: (count key, width key, module attribute)
EXTRA_BLOCKS = {'enc': ('nresb', 'midb', 'resb'), 'dec': ('nres32b', 'mid32b', 'res32b')}


def add_blocks(part, state, cfg, n, mid):
    """A config with n extra res blocks (mid channels) at 1/32 in the encoder (part 'enc')
    or decoder ('dec'), and that module's state from `state` (one without them): the new
    blocks start as exact identities (second conv zero), so the grown model computes exactly
    what the old one did (train.py --add-enc-res / --add-res32)."""
    count_key, mid_key, attr = EXTRA_BLOCKS[part]
    cfg = json.loads(json.dumps(cfg))
    assert not cfg[part].get(count_key), f'{part} already has extra blocks'
    cfg[part] = dict(cfg[part], **{count_key: n, mid_key: mid})
    m = (Encoder if part == 'enc' else Decoder)(cfg['T'], **cfg[part])
    missing, unexpected = m.load_state_dict(state, strict=False)
    assert not unexpected and all(k.startswith(attr + '.') for k in missing), (missing, unexpected)
    with torch.no_grad():
        for blk in getattr(m, attr):
            blk.b.weight.zero_()
            blk.b.bias.zero_()
    return cfg, m.state_dict()


SEAM_STRIDES = (8, 4, 2)


def seam_name(stride):
    """The Decoder attribute (and state-dict prefix) of the seam conv at 1/stride."""
    return f'seam{stride}'


XRES_STRIDES = (16, 8, 4, 2)


def xres_name(stride):
    """The Decoder attribute (and state-dict prefix) of the extra res block at 1/stride."""
    return f'xres{stride}'


def _grow_decoder(state, cfg, key, strides, name, zero):
    """A config whose decoder has per-stage modules cfg['dec'][key] + `strides` (named by
    `name`), and the decoder state from `state` (one without the new ones); `zero(module)`
    makes each new module a no-op, so the grown decoder decodes exactly as before."""
    cfg = json.loads(json.dumps(cfg))
    old = list(cfg['dec'].get(key, []))
    new = [s_ for s_ in strides if s_ not in old]
    assert new, f'the decoder already has {key} {old}'
    cfg['dec'] = dict(cfg['dec'], **{key: sorted(old + new, reverse=True)})
    m = Decoder(cfg['T'], **cfg['dec'])
    missing, unexpected = m.load_state_dict(state, strict=False)
    assert not unexpected and all(k.split('.')[0] in {name(s_) for s_ in new} for k in missing), (missing, unexpected)
    with torch.no_grad():
        for s_ in new:
            zero(getattr(m, name(s_)))
    return cfg, m.state_dict()


def _zero_conv(conv):
    conv.weight.zero_()
    conv.bias.zero_()


def add_seam(state, cfg, strides):
    """Seam inputs at `strides` (Decoder seam), the new convs zero (train.py --add-seam)."""
    return _grow_decoder(state, cfg, 'seam', strides, seam_name, _zero_conv)


def add_xres(state, cfg, strides):
    """Extra res blocks at `strides` (Decoder xres), their second conv zero, so each is an
    identity on the stage's (non-negative) activations (train.py --add-xres)."""
    return _grow_decoder(state, cfg, 'xres', strides, xres_name, lambda blk: _zero_conv(blk.b))


DEFAULT_CFG = {'T': 64, 'L': 9, 'enc': {}, 'dec': {}}


def pad32(a):
    """Edge-replicate an HxWx3 uint8 array to multiples of the window size."""
    h, w = a.shape[:2]
    Hp, Wp = -(-h // WINDOW) * WINDOW, -(-w // WINDOW) * WINDOW
    return np.pad(a, ((0, Hp - h), (0, Wp - w), (0, 0)), mode='edge')


def base_for_budget(img: Image.Image, target=200):
    """The encoder's placeholder: lanczos /16, the highest WebP quality within `target` bytes."""
    w, h = img.size
    small = img.resize((w // BASE_FACTOR, h // BASE_FACTOR), Image.LANCZOS)
    lo, hi, best = 0, 100, None
    while lo <= hi:
        q = (lo + hi) // 2
        dec, n = webp_roundtrip(small, q)
        if n <= target:
            best, lo = (dec, n, q), q + 1
        else:
            hi = q - 1
    if best is None:
        dec, n = webp_roundtrip(small, 0)
        best = (dec, n, 0)
    return best


def load_encoder(ckpt_path):
    ck = torch.load(ckpt_path, weights_only=False)
    enc, dec, rate = build(ck['cfg'])
    enc.load_state_dict(ck['enc']), dec.load_state_dict(ck['dec']), rate.load_state_dict(ck['rate'])
    enc.eval(), dec.eval()
    return ck, enc, dec, rate
