"""Export a trained checkpoint to models/: decoder.onnx, encoder.onnx, rcm.json,
manifest.json, and small parity fixtures in models/testvec/; ATTRIBUTION.md beside them.

    python training/export.py --ckpt training/runs/main/best.pt --rcm training/runs/main/rcm.pt
Checks the ONNX graphs in onnxruntime against PyTorch before writing the manifest.
The manifest's trainingSets / trainingData / weightsLicence come from the data records of the
checkpoints (train.py, train_rcm.py: the set of each run and of the runs it started from; a
checkpoint without a record predates them and was trained on 'research').
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
import mrt  # noqa: E402
from export_graph import ExportDecoder, tail_basis  # noqa: E402

# ops that onnxruntime-web runs on both the WASM and the WebGPU execution providers
ALLOWED_OPS = {'Conv', 'ConvTranspose', 'Relu', 'Add', 'Sub', 'Mul', 'Div', 'Concat', 'Clip', 'Tanh', 'Resize',
               'DepthToSpace', 'Reshape', 'Transpose', 'Shape', 'Gather', 'Unsqueeze', 'Slice',
               'Cast', 'Constant', 'Identity', 'Floor', 'Max', 'Min'}
TOL = 1e-4  # max |onnxruntime - pytorch| on outputs in [-1, 1] / [0, 1]
TAIL_TOL = 2e-3  # the split decoder with its float16 tail basis vs decoder.onnx (< 1/255)


def b64f32(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype='<f4').tobytes()).decode()


def tensor_json(t):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    return {'shape': list(a.shape), 'f32': b64f32(a)}


def sha256(path):
    return hashlib.sha256(open(path, 'rb').read()).digest()


def export_onnx(model, args, path, inputs, outputs, dyn):
    torch.onnx.export(model, args, path, input_names=inputs, output_names=outputs,
                      dynamic_axes=dyn, opset_version=17, dynamo=False, do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    bad = [o for o in ops if o not in ALLOWED_OPS]
    if bad:
        raise SystemExit(f'{path}: ops outside the onnxruntime-web set: {bad}')
    return ops


def export_decoder(dec, args, path, split=None):
    """decoder.onnx's I/O (docs/design.md) in the graph form of training/export_graph.py;
    with split, the split decoder (an extra `tail` input at the window grid)."""
    inputs = ['z', 'mask', 'base'] + (['tail'] if split else [])
    dyn = {'z': {2: 'gh', 3: 'gw'}, 'mask': {2: 'gh', 3: 'gw'}, 'base': {2: 'bh', 3: 'bw'}, 'image': {2: 'H', 3: 'W'}}
    if split:
        dyn['tail'] = {2: 'gh', 3: 'gw'}
    return export_onnx(ExportDecoder(dec, split).eval(), args, path, inputs, ['image'], dyn)


def ort_run(path, feeds):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    return s.run(None, {k: v.numpy() for k, v in feeds.items()})[0]


def fixture_image(h, w, seed=1):
    """Synthetic test picture (gradients, edges, texture): no licensed pixels in the repo."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing='ij')
    r = 0.5 + 0.4 * torch.sin(6 * xx + 2 * yy)
    gch = (xx + yy) / 2
    b = ((xx * 8).floor() + (yy * 8).floor()) % 2 * 0.6 + 0.2
    img = torch.stack([r, gch, b]) + 0.05 * torch.randn(3, h, w, generator=g)
    return img.clamp(0, 1)[None]


def base_of(img, q=30):
    from PIL import Image
    a = (img[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    base, _ = mrt.make_base(Image.fromarray(a), q)
    return mrt.to_t(base)[None]


PREVIEW_COMPONENTS = 64  # the preview paints early prefixes; later tokens wait for decoder.onnx
SPLIT_LAYERS = 64  # models with more layers also ship decoder-split.onnx + tail.bin for the browser


def write_tail(dec, split, path):
    """models/tail.bin (format in src/model/tail.ts): the linear synthesis basis of tokens
    >= split as float16. Returns the basis the browser will use (float16-rounded)."""
    import struct
    B = tail_basis(dec, split).half()
    with open(path, 'wb') as fh:
        fh.write(b'MRTT' + struct.pack('<BBHHH', 1, 1, split, split + B.shape[0], mrt.WINDOW))
        fh.write(B.numpy().astype('<f2').tobytes())
    return B.float()


def write_preview(dec, path):
    """models/preview.bin (format in src/model/preview.ts): the linear synthesis basis of the
    first components, int8 with one scale per component. Returns the dequantised basis
    [P, 3072] that the fixture is computed with."""
    import struct
    W = dec.lin.weight.detach()[:, :, 0, 0].t().double()  # [T, 3*32*32], (c, i, j) order
    P = min(PREVIEW_COMPONENTS, W.shape[0])
    W = W[:P]
    scale = (W.abs().amax(1) / 127).clamp(min=1e-12).float()
    q = torch.round(W / scale.double()[:, None]).clamp(-127, 127).to(torch.int8)
    with open(path, 'wb') as fh:
        fh.write(b'MRTP' + struct.pack('<BBHHH', 1, 0, P, mrt.WINDOW, 0))
        fh.write(scale.numpy().astype('<f4').tobytes())
        fh.write(q.numpy().tobytes())
    return q.float() * scale[:, None]


def preview_reference(basis, z, base):
    """What src/model/preview.ts computes: clamp(bilinear x16(base) + sum_t z_t basis_t)."""
    P = basis.shape[0]
    r = torch.einsum('tk,bthw->bkhw', basis, z[:, :P])
    r = torch.nn.functional.pixel_shuffle(r, mrt.WINDOW)
    return torch.clamp(mrt.up16(base) + r, 0.0, 1.0)


def load_rcm(path, T, L):
    """An RCM checkpoint of train_rcm.py (it may cover only the first layers: --layers, --coarse),
    or an untrained one over T layers of L levels when path is None (smoke tests only); and the
    checkpoint's data record (None without a checkpoint)."""
    if not path:
        return mrt.RCM(T, L), {}, None
    rk = torch.load(path, weights_only=False)
    rcm = mrt.RCM(rk.get('T', T), rk.get('L', L), rk['D'], rk['H'])
    rcm.load_state_dict(rk['state'])
    return rcm, rk.get('info', {}), datasets.of_checkpoint(rk)


def rcm_json(rcm):
    """The rcm.json object of an RCM (weights as float32) and those float32 tensors."""
    tens = {n: t.detach().float() for n, t in rcm.tensors().items()}
    return ({'format': 'mrt-rcm-1', 'D': rcm.D, 'H': rcm.H, 'L': rcm.L, 'T': rcm.T,
             'tensors': {n: tensor_json(t) for n, t in tens.items()}}, tens)


def rcm_fixture(rcm, tens, k, path):
    """Parity fixture: symbols k [T', gh, gw] and the frequencies the design formula gives them,
    in float64 from the float32 weights."""
    Tr, L = rcm.T, rcm.L
    gh, gw = k.shape[1:]
    r64 = mrt.RCM(Tr, L, rcm.D, rcm.H).double()
    with torch.no_grad():
        for n, t in tens.items():
            if n == 'decay':
                # store sigmoid^-1 so that r64.decay() returns the float32 decay widened
                d = t.double().clamp(1e-12, 1 - 1e-12)
                r64.decay_logit.copy_(torch.log(d / (1 - d)))
            else:
                getattr(r64, n).copy_(t.double())
        lg = r64.logits(k[None, :Tr])[0].numpy()
    lg = lg - lg.max(-1, keepdims=True)
    p = np.exp(lg)
    p /= p.sum(-1, keepdims=True)
    f = mrt.quantise_freqs(p)
    json.dump({'T': Tr, 'L': L, 'gh': gh, 'gw': gw,
               'tokens': k[:Tr].reshape(-1).tolist(),
               'note': 'tokens and freqs indexed [t][y][x] (freqs [..][L]); M = 2^15',
               'freqs': f.reshape(-1, L).tolist()}, open(path, 'w'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(mrt.RUNS, 'main', 'best.pt'))
    ap.add_argument('--rcm', default=None, help='RCM checkpoint from train_rcm.py')
    ap.add_argument('--coarse-rcm', default=None,
                    help='RCM over the coarse trits (train_rcm.py --coarse K): rcm.json "coarse", used by coarse-first streams')
    ap.add_argument('--out', default=os.path.join(mrt.ROOT, 'models'))
    ap.add_argument('--id', default=None, help='manifest id (default: bump mrt-v0.N)')
    ap.add_argument('--coarse-mask', type=float, default=None,
                    help="the decoder's mask for coarse-only tokens (manifest coarseMask; default: the checkpoint's, else 1)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(os.path.join(args.out, 'testvec'), exist_ok=True)
    ck = torch.load(args.ckpt, weights_only=False)
    cfg = ck['cfg']
    T, L = cfg['T'], cfg['L']
    enc, dec, _ = mrt.build(cfg)
    enc.load_state_dict(ck['enc'])
    dec.load_state_dict(ck['dec'])
    enc.eval(), dec.eval()

    # ---- ONNX graphs (dynamic spatial axes)
    dpath, epath = os.path.join(args.out, 'decoder.onnx'), os.path.join(args.out, 'encoder.onnx')
    gh, gw = 2, 3
    img = fixture_image(gh * 32, gw * 32)
    base = base_of(img)
    with torch.no_grad():
        z = enc(img, base)
    k, v = mrt.fsq(z, L)
    g = torch.Generator().manual_seed(2)
    mask = torch.zeros(1, T, gh, gw)
    mask[:, :T // 4] = 1
    mask[:, T // 4] = (torch.rand(gh, gw, generator=g) < 0.5).float()  # a partial layer
    zin = (v * mask).detach()
    # the graph form of the decoder (training/export_graph.py); parity below is against `dec`
    dec_ops = export_decoder(dec, (zin, mask, base), dpath)
    # encoder fixture on a different (non-square) grid than the export trace
    eimg = fixture_image(32, 64, seed=3)
    ebase = base_of(eimg)
    enc_ops = export_onnx(enc, (img, base), epath, ['image', 'base'], ['z'],
                          {'image': {2: 'H', 3: 'W'}, 'base': {2: 'bh', 3: 'bw'}, 'z': {2: 'gh', 3: 'gw'}})

    # ---- parity: onnxruntime vs PyTorch
    with torch.no_grad():
        y = dec(zin, mask, base)
        ez = enc(eimg, ebase)
    y_ort = ort_run(dpath, {'z': zin, 'mask': mask, 'base': base})
    ez_ort = ort_run(epath, {'image': eimg, 'base': ebase})
    dd = float(np.abs(y_ort - y.numpy()).max())
    de = float(np.abs(ez_ort - ez.numpy()).max())
    print(f'parity decoder max|d|={dd:.2e} encoder max|d|={de:.2e} (tol {TOL})')
    if dd > TOL or de > TOL:
        raise SystemExit('onnxruntime disagrees with PyTorch')
    # larger shape check (Kodak-sized grid), not stored
    with torch.no_grad():
        zb = torch.rand(1, T, 16, 24) * 2 - 1
        mb = torch.ones_like(zb)
        bb = torch.rand(1, 3, 32, 48)
        yb = dec(zb, mb, bb)
    db = float(np.abs(ort_run(dpath, {'z': zb, 'mask': mb, 'base': bb}) - yb.numpy()).max())
    print(f'parity decoder 768x512 max|d|={db:.2e}')
    if db > TOL:
        raise SystemExit('onnxruntime disagrees with PyTorch at 768x512')

    # split decoder (T > 64): the browser's graph; the linear synthesis of tokens >= 64
    # comes from tail.bin, summed in TypeScript as they arrive (src/model/tail.ts)
    split = None
    for old in ('decoder-p64.onnx', 'decoder-split.onnx', 'tail.bin'):
        if os.path.exists(os.path.join(args.out, old)):
            os.remove(os.path.join(args.out, old))
    if T > SPLIT_LAYERS:
        P = SPLIT_LAYERS
        spath, tpath = os.path.join(args.out, 'decoder-split.onnx'), os.path.join(args.out, 'tail.bin')
        export_decoder(dec, (zin, mask, base, torch.zeros(1, 3 * mrt.WINDOW ** 2, gh, gw)), spath, P)
        B = write_tail(dec, P, tpath)
        for name, mp in (('all layers', torch.ones_like(zb)), ('40 layers', (torch.arange(T) < 40).float()[None, :, None, None].expand_as(zb))):
            zm = zb * mp
            tail = torch.einsum('tk,bthw->bkhw', B, zm[:, P:])
            with torch.no_grad():
                yf = dec(zm, mp, bb)
            ds = float(np.abs(ort_run(spath, {'z': zm, 'mask': mp, 'base': bb, 'tail': tail}) - yf.numpy()).max())
            print(f'parity split decoder ({name}, float16 tail) vs decoder at 768x512 max|d|={ds:.2e} (tol {TAIL_TOL})')
            if ds > TAIL_TOL:
                raise SystemExit('the split decoder disagrees with the decoder')
        split = {'file': 'decoder-split.onnx', 'tail': 'tail.bin', 'layers': P}

    tv = os.path.join(args.out, 'testvec')
    json.dump({'model': 'decoder.onnx', 'tol': TOL,
               'inputs': {'z': tensor_json(zin), 'mask': tensor_json(mask), 'base': tensor_json(base)},
               'outputs': {'image': tensor_json(y)}}, open(os.path.join(tv, 'decoder.json'), 'w'))
    json.dump({'model': 'encoder.onnx', 'tol': TOL,
               'inputs': {'image': tensor_json(eimg), 'base': tensor_json(ebase)},
               'outputs': {'z': tensor_json(ez)}}, open(os.path.join(tv, 'encoder.json'), 'w'))

    # ---- token preview (display only; not part of modelHash: it is derived from decoder.onnx)
    basis = write_preview(dec, os.path.join(args.out, 'preview.bin'))
    with torch.no_grad():
        yp = preview_reference(basis, zin, base)
        full = dec(zin, mask, base)
    print(f'preview: {basis.shape[0]} components, PSNR vs decoder.onnx on the fixture '
          f'{mrt.psnr(yp, full).item():.2f} dB')
    json.dump({'model': 'preview.bin', 'tol': 1.5 / 255,
               'inputs': {'z': tensor_json(zin), 'base': tensor_json(base)},
               'outputs': {'image': tensor_json(yp)}}, open(os.path.join(tv, 'preview.json'), 'w'))

    # ---- RCM (and the coarse-trit RCM, rcm.json "coarse": Index prior RCM_COARSE, format 2.10)
    rcm, rinfo, rdata = load_rcm(args.rcm, T, L)
    if not args.rcm:
        print('WARNING: no --rcm given: writing an untrained RCM (smoke tests only)')
    rjson, tens = rcm_json(rcm)
    # RCM fixture: tokens of the fixture image and the frequencies the design formula gives
    # (computed here in float64 from the float32 weights; an exact TS port may differ by
    # rounding in rare floor() ties, so tests allow |df| <= 1 per symbol).
    rcm_fixture(rcm, tens, k[0], os.path.join(tv, 'rcm.json'))
    if args.coarse_rcm:
        if L != 9:
            raise SystemExit(f'--coarse-rcm needs 9 levels (coarse trits of 3), the model has {L}')
        crcm, cinfo, cdata = load_rcm(args.coarse_rcm, T, 3)
        rdata = datasets.merge(rdata, cdata)
        if crcm.L != 3:
            raise SystemExit(f'{args.coarse_rcm}: a coarse RCM has L = 3, this one {crcm.L}')
        rjson['coarse'], ctens = rcm_json(crcm)
        rinfo = {**rinfo, 'coarse': cinfo}
        rcm_fixture(crcm, ctens, torch.div(k[0], 3, rounding_mode='floor'), os.path.join(tv, 'rcm-coarse.json'))
    elif os.path.exists(os.path.join(tv, 'rcm-coarse.json')):
        os.remove(os.path.join(tv, 'rcm-coarse.json'))
    json.dump(rjson, open(os.path.join(args.out, 'rcm.json'), 'w'))

    # ---- manifest
    mpath = os.path.join(args.out, 'manifest.json')
    mid = args.id
    if mid is None:
        n = 0
        if os.path.exists(mpath):
            old = json.load(open(mpath)).get('id', '')
            if old.startswith('mrt-v0.'):
                try:
                    n = int(old.split('.')[-1]) + 1
                except ValueError:
                    n = 0
        mid = f'mrt-v0.{n}'
    files, digests = {}, []
    for name in ('decoder.onnx', 'encoder.onnx', 'rcm.json', 'preview.bin') + ((split['file'], split['tail']) if split else ()):
        p_ = os.path.join(args.out, name)
        d = sha256(p_)
        if name in ('decoder.onnx', 'encoder.onnx', 'rcm.json'):  # modelHash: the files that define the tokens
            digests.append(d)
        files[name] = {'sha256': d.hex(), 'bytes': os.path.getsize(p_)}
    manifest = {'id': mid, 'files': files,
                'layout': {'window': mrt.WINDOW, 'baseFactor': mrt.BASE_FACTOR, 'tokens': T, 'levels': L},
                'modelHash': hashlib.sha256(b''.join(digests)).hexdigest()}
    if split:
        manifest['splitDecoder'] = split
    # the mask value the decoder was trained with for tokens known only by their coarse trit
    coarse_mask = args.coarse_mask if args.coarse_mask is not None else ck.get('coarse_mask', 1.0)
    if coarse_mask != 1.0:
        manifest['coarseMask'] = coarse_mask
    # the module configuration beyond the defaults (training/recover.py rebuilds the modules from it)
    arch = {part: {k_: v_ for k_, v_ in cfg[part].items() if k_ not in ('lin', 'bound')} for part in ('enc', 'dec')}
    arch = {part: a_ for part, a_ in arch.items() if a_}
    if arch:
        manifest['arch'] = arch
    # the data the weights were trained on (the checkpoints' records: their whole lineage, RCMs
    # included), the licence of the weights, and ATTRIBUTION.md for the CC BY / CC BY-SA authors
    data = datasets.merge(datasets.of_checkpoint(ck), rdata)
    datasets.stamp(manifest, data, args.out)
    json.dump(manifest, open(mpath, 'w'), indent=2)
    open(mpath, 'a').write('\n')
    with torch.no_grad():
        macs = mrt.count_macs(dec, torch.zeros(1, T, 16, 24), torch.zeros(1, T, 16, 24), torch.zeros(1, 3, 32, 48))
    print(json.dumps({'id': mid, 'ckpt': args.ckpt, 'step': ck.get('step'),
                      'decoder_ops': dec_ops, 'encoder_ops': enc_ops,
                      'dec_params': mrt.nparams(dec), 'enc_params': mrt.nparams(enc),
                      'dec_macs_per_px': round(macs / (768 * 512)), 'rcm': rinfo,
                      'bytes': {k_: v_['bytes'] for k_, v_ in files.items()},
                      'training_sets': manifest['trainingSets'], 'training_images': len(data['images']),
                      'weights_licence': manifest['weightsLicence']}, indent=1))


if __name__ == '__main__':
    main()
