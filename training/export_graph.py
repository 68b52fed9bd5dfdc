"""The decoder in the form export.py writes to ONNX: the same function as mrt.Decoder
(max |diff| ~3e-7), rearranged so onnxruntime does less non-conv work (measured in
onnxruntime-web WASM, 1 thread, 768x512: ~0.91x the time of the direct export):
- each 1x1 up-conv + PixelShuffle(2) becomes one ConvTranspose(k2, s2) on [x, 1] (the
  ones channel carries the per-sub-pixel bias): no DepthToSpace pass per stage;
- the output conv + PixelShuffle(2) becomes a ConvTranspose(k2, s2); its bias moves into
  the window-level sum below;
- bilinear x16 of the base (a full-resolution Resize) becomes two small convs that give
  each window's 3x32x32 upscaled base at 1/32, added to lin(z) before the one
  PixelShuffle(32): no Resize and one full-resolution Add fewer.
- (seam decoders) the seam convs read that same window-level sum after its PixelShuffle(32),
  i.e. the linear image plus the output bias: their biases absorb the difference (seam_shift).
Needs a --lin decoder (the window-level sum rides on its synthesis path).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

import mrt


def bilinear16_taps(n=mrt.WINDOW):
    """w[i, m]: weight of base row 2g+m (m = 0..3, base padded by one replicated row each
    side) for pixel row i of window g under F.interpolate(x16, bilinear, align_corners=False)."""
    w = torch.zeros(n, 4, dtype=torch.float64)
    for i in range(n):
        xp = 0.5 + (i + 0.5) / 16
        for m in range(4):
            w[i, m] = max(0.0, 1 - abs(xp - m))
    return w


def seam_shift(W: torch.Tensor, out_bias: torch.Tensor) -> torch.Tensor:
    """What a seam conv's bias loses in the graph form: the training form feeds it (linear image
    - 0.5), the graph the linear image plus the output conv's bias (2x2-periodic, as its stride
    and kernel are even): shift[o] = sum W[o, c, a, b] * (0.5 + out_bias[c, a % 2, b % 2])."""
    k = W.shape[-1]
    tile = 0.5 + out_bias.reshape(3, 2, 2).repeat(1, k // 2, k // 2)
    return (W * tile[None]).sum((1, 2, 3))


class ExportDecoder(nn.Module):
    """split=P: the split decoder (models with T > P layers). Its linear synthesis covers
    only tokens < P; the rest of it, `tail` = sum over t >= P of z_t * lin[:, t] at the
    window grid ([1, 3*32*32, gh, gw], the layout PixelShuffle(32) takes), is an input
    that the browser accumulates from the received tokens as they arrive (sparse: most
    late tokens are the centre level, z = 0). The nonlinear path still sees every token."""

    def __init__(self, dec: mrt.Decoder, split: int | None = None):
        super().__init__()
        assert dec.lin is not None, 'ExportDecoder needs the linear synthesis path (--lin)'
        self.d = dec
        self.split = split
        with torch.no_grad():
            if split is not None:
                self.register_buffer('lin_head', dec.lin.weight[:, :split].clone())
            for name in ('up16', 'up8', 'up4', 'up2'):
                conv = getattr(dec, name)
                W, b = conv.weight[:, :, 0, 0], conv.bias
                Wt = torch.cat([W, b[:, None]], 1).reshape(-1, 2, 2, W.shape[1] + 1).permute(3, 0, 1, 2)
                self.register_buffer(name + '_ct', Wt.contiguous().clone())
            W = dec.out.weight[:, :, 0, 0]
            self.register_buffer('out_ct', W.reshape(-1, 2, 2, W.shape[1]).permute(3, 0, 1, 2).contiguous().clone())
            w = bilinear16_taps()
            Wh = torch.zeros(3 * mrt.WINDOW, 3, 4, 1, dtype=torch.float64)
            for c in range(3):
                Wh[c * mrt.WINDOW:(c + 1) * mrt.WINDOW, c, :, 0] = w
            self.register_buffer('rs_h', Wh.float())
            self.register_buffer('rs_h_b', torch.zeros(3 * mrt.WINDOW))
            self.register_buffer('rs_w', w.repeat(3 * mrt.WINDOW, 1).reshape(3 * mrt.WINDOW ** 2, 1, 1, 4).float())
            # out.bias per (c, a, b) sub-pixel, tiled over the window in (c, i, j) order
            half = mrt.WINDOW // 2
            self.register_buffer('rs_w_b', dec.out.bias.reshape(3, 2, 2).repeat(1, half, half).reshape(-1).clone())
            for name in map(mrt.seam_name, mrt.SEAM_STRIDES):
                conv = getattr(dec, name)
                if conv is not None:
                    self.register_buffer(name + '_b', (conv.bias - seam_shift(conv.weight, dec.out.bias)).clone())

    @staticmethod
    def _up(x, w):
        ones = x[:, :1] * 0 + 1  # exactly 1 for finite activations, without ConstantOfShape
        return F.conv_transpose2d(torch.cat([x, ones], 1), w, stride=2)

    def forward(self, z, mask, base, tail=None):
        d = self.d
        b16 = F.relu(d.b16(base - 0.5))
        b32 = F.relu(d.b32(b16))
        x = d.inp(torch.cat([z, mask, b32], 1))
        x = F.relu(d.trunk32(x))
        x = self._up(x, self.up16_ct)
        x = F.relu(d.mix16(torch.cat([x, b16], 1)))
        x = d.stage_res(16, d.res16, x)
        p = torch.cat([base[:, :, :, :1], base, base[:, :, :, -1:]], 3)  # replicate-pad 1
        p = torch.cat([p[:, :, :1], p, p[:, :, -1:]], 2)
        u = F.conv2d(p, self.rs_h, self.rs_h_b, stride=(2, 1))  # window rows
        u = F.conv2d(u, self.rs_w, self.rs_w_b, stride=(1, 2), groups=3 * mrt.WINDOW)  # columns (+ out bias)
        if self.split is None:
            lin = d.lin(z)
        else:
            lin = F.conv2d(z[:, :self.split], self.lin_head) + tail
        full = d.ps32(lin + u)  # the linear image plus the output bias
        for s_, res in ((8, d.res8), (4, d.res4), (2, d.res2)):
            x = self._up(x, getattr(self, f'up{s_}_ct'))
            seam = getattr(d, mrt.seam_name(s_))
            if seam is not None:
                x = x + F.conv2d(full, seam.weight, getattr(self, mrt.seam_name(s_) + '_b'), stride=s_)
            x = d.stage_res(s_, res, x)
        r = F.conv_transpose2d(x, self.out_ct, stride=2)
        return torch.clamp(r + full, 0.0, 1.0)


def tail_basis(dec: mrt.Decoder, split: int) -> torch.Tensor:
    """[T - split, 3*32*32]: the linear synthesis of tokens >= split, one row per token
    layer in (c, i, j) order: what the split decoder's `tail` input sums."""
    return dec.lin.weight.detach()[:, split:, 0, 0].t().contiguous()
