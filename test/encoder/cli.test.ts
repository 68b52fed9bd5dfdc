// End-to-end tests of the `mrt` CLI on real images of several formats and sizes.
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHeader } from '../../src/format/index.ts';
import { DEFAULT_COARSE_LAYERS } from '../../src/encoder/encode.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const KODAK = join(ROOT, '../shared/data/kodak');

/** Runs the CLI; `timeout` kills a run that hangs (the test then fails on its exit code). */
async function mrt(args: string[], o: { timeout?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [join(ROOT, 'bin/mrt.js'), ...args], { cwd: ROOT, maxBuffer: 1 << 24, timeout: o.timeout ?? 0 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

// Root writes through permission bits: a read-only folder needs `chattr +i` (or a non-root user and chmod).
const readOnly = async (path: string): Promise<(() => Promise<unknown>) | null> => {
  await mkdir(path, { recursive: true });
  if (process.getuid?.() !== 0) {
    await chmod(path, 0o555);
    return () => chmod(path, 0o755);
  }
  const ok = await run('chattr', ['+i', path]).then(() => true, () => false);
  return ok ? () => run('chattr', ['-i', path]) : null;
};
const canReadOnly = await (async () => {
  const probe = await mkdtemp(join(tmpdir(), 'mrt-ro-'));
  const undo = await readOnly(join(probe, 'd'));
  await undo?.();
  await rm(probe, { recursive: true, force: true });
  return undo !== null;
})();

let dir: string;
let manifest: { id: string; modelHash: string; layout: { tokens: number } };
/** (2.10) the layers the model's coarse RCM covers, 0 when it has none */
let coarseRcmLayers = 0;
const inputs: Record<string, { w: number; h: number }> = {};

beforeAll(async () => {
  manifest = JSON.parse(await readFile(join(ROOT, 'models/manifest.json'), 'utf8'));
  coarseRcmLayers = JSON.parse(await readFile(join(ROOT, 'models/rcm.json'), 'utf8')).coarse?.T ?? 0;
  dir = await mkdtemp(join(tmpdir(), 'mrt-cli-'));
  const src = join(dir, 'src');
  await mkdir(join(src, 'nested'), { recursive: true });
  const k = (n: number) => join(KODAK, `kodim${String(n).padStart(2, '0')}.png`);
  const add = async (name: string, w: number, h: number, make: () => Promise<unknown>) => {
    await make();
    inputs[name] = { w, h };
  };
  // Odd size PNG, portrait JPEG, greyscale, alpha, CMYK JPEG, WebP, AVIF, TIFF, EXIF-rotated.
  await add('odd.png', 101, 67, () => sharp(k(1)).resize(101, 67).png().toFile(join(src, 'odd.png')));
  await add('nested/portrait.jpg', 64, 96, () => sharp(k(4)).resize(64, 96).jpeg({ quality: 90 }).toFile(join(src, 'nested/portrait.jpg')));
  await add('grey.png', 80, 48, () => sharp(k(2)).resize(80, 48).greyscale().png().toFile(join(src, 'grey.png')));
  await add('alpha.png', 64, 64, () => sharp(k(3)).resize(64, 64).ensureAlpha(0.5).png().toFile(join(src, 'alpha.png')));
  await add('cmyk.jpg', 72, 40, () => sharp(k(5)).resize(72, 40).toColourspace('cmyk').jpeg().toFile(join(src, 'cmyk.jpg')));
  await add('webp.webp', 50, 50, () => sharp(k(6)).resize(50, 50).webp().toFile(join(src, 'webp.webp')));
  await add('avif.avif', 48, 40, () => sharp(k(7)).resize(48, 40).avif().toFile(join(src, 'avif.avif')));
  await add('tiff.tiff', 40, 56, () => sharp(k(8)).resize(40, 56).tiff().toFile(join(src, 'tiff.tiff')));
  // Stored 90x60 with orientation 6 (rotate 90° clockwise): displayed 60x90.
  await add('rotated.jpg', 60, 90, () => sharp(k(9)).resize(90, 60).jpeg().withMetadata({ orientation: 6 }).toFile(join(src, 'rotated.jpg')));
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mrt CLI', () => {
  it('encodes a folder recursively with mirrored layout, and every output decodes at its size', async () => {
    const out = join(dir, 'out');
    const r = await mrt(['encode', join(dir, 'src'), '-o', out, '--jobs', '2']);
    expect(r.stderr).toContain(`${Object.keys(inputs).length} encoded, 0 up to date, 0 failed`);
    expect(r.code).toBe(0);
    for (const [name, { w, h }] of Object.entries(inputs)) {
      const file = join(out, name.replace(/\.[a-z]+$/, '.mrt'));
      const info = await mrt(['info', file, '--json']);
      expect(info.code).toBe(0);
      const parsed = JSON.parse(info.stdout);
      expect([parsed.image.width, parsed.image.height], name).toEqual([w, h]);
      // the file stores only the model hash (2.6); info names the model from the local manifest
      // (2.10 when the model has a coarse RCM: the encoder codes the coarse pass with it)
      expect([parsed.version, parsed.model.id, parsed.model.hash], name).toEqual([coarseRcmLayers ? '2.10' : '2.9', manifest.id, manifest.modelHash.slice(0, 8)]);
      // 2.8: the coarse-first order, by default over the layers the coarse RCM covers
      const K = Math.min(coarseRcmLayers || DEFAULT_COARSE_LAYERS, manifest.layout.tokens);
      expect([parsed.layout.order, parsed.layout.coarseLayers, parsed.coarseRcm], name).toEqual(['coarse-first', K, coarseRcmLayers > 0]);
      // the placeholder as a server-rendered page inlines it: its own bytes, over the padded layer
      const m = /^url\(data:image\/avif;base64,([A-Za-z0-9+/=]+)\) 0 0\/([\d.]+)% ([\d.]+)% no-repeat$/.exec(parsed.placeholder.background);
      expect(m, name).not.toBeNull();
      expect(Buffer.from(m![1]!, 'base64').length, name).toBe(parsed.placeholder.fileBytes ?? parsed.placeholder.bytes);
      expect(Number(m![2]), name).toBeCloseTo((100 * Math.ceil(parsed.learned.width / 32) * 32) / parsed.learned.width, 3);
      expect(Number(m![3]), name).toBeCloseTo((100 * Math.ceil(parsed.learned.height / 32) * 32) / parsed.learned.height, 3);
      const png = join(dir, `${name.replace(/\W/g, '_')}.png`);
      const d = await mrt(['decode', file, '--bytes', '100000', '-o', png]);
      expect(d.code, d.stderr).toBe(0);
      const meta = await sharp(png).metadata();
      expect([meta.width, meta.height], name).toEqual([w, h]);
    }
    // Nothing half-written is left behind.
    const all = await readdir(out, { recursive: true });
    expect(all.filter((f) => String(f).endsWith('.tmp'))).toEqual([]);
  });

  it('is deterministic and skips outputs that are up to date', async () => {
    const a = join(dir, 'det-a.mrt');
    const b = join(dir, 'det-b.mrt');
    const input = join(dir, 'src/odd.png');
    expect((await mrt(['encode', input, '-o', a])).code).toBe(0);
    expect((await mrt(['encode', input, '-o', b])).code).toBe(0);
    expect(Buffer.compare(await readFile(a), await readFile(b))).toBe(0);
    const before = (await stat(a)).mtimeMs;
    const again = await mrt(['encode', input, '-o', a]);
    expect(again.stderr).toContain('0 encoded, 1 up to date');
    expect((await stat(a)).mtimeMs).toBe(before);
    // A different option is a different content hash: re-encoded.
    const changed = await mrt(['encode', input, '-o', a, '--placeholder-bytes', '120']);
    expect(changed.stderr).toContain('1 encoded, 0 up to date');
    // --no-tail-rdo keeps the network's late tokens: other bytes, the same header size
    const c = join(dir, 'det-c.mrt');
    expect((await mrt(['encode', input, '-o', c, '--no-tail-rdo'])).code).toBe(0);
    const [fb, fc] = [await readFile(b), await readFile(c)];
    expect(Buffer.compare(fb, fc)).not.toBe(0);
    expect([readHeader(fc).header.width, readHeader(fc).header.height]).toEqual([101, 67]);
  });

  it('reports bad inputs by name, goes on with the batch and exits non-zero', async () => {
    const bad = join(dir, 'bad');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'corrupt.png'), Buffer.from('this is not a png at all'));
    await sharp(join(dir, 'src/odd.png')).toFile(join(bad, 'good.png'));
    // Same name, other format: would overwrite good.mrt.
    await sharp(join(dir, 'src/odd.png')).jpeg().toFile(join(bad, 'good.jpg'));
    const out = join(dir, 'bad-out');
    // An existing output for the corrupt input must survive the failed run untouched.
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'corrupt.mrt'), 'previous');
    const r = await mrt(['encode', bad, join(dir, 'missing.png'), '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/corrupt\.png: cannot read image/);
    expect(r.stderr).toMatch(/missing\.png: no such file/);
    expect(r.stderr).toMatch(/good\.png: would write .*good\.mrt, which .*good\.jpg already writes/);
    expect(r.stderr).toContain('1 encoded, 0 up to date, 3 failed');
    expect((await readFile(join(out, 'corrupt.mrt'), 'utf8'))).toBe('previous');
    expect((await stat(join(out, 'good.mrt'))).size).toBeGreaterThan(100);
  });

  it('leaves only whole .mrt files when killed in the middle of a batch', async () => {
    const out = join(dir, 'killed');
    const child = spawn('node', [join(ROOT, 'bin/mrt.js'), 'encode', join(dir, 'src'), '-o', out], { cwd: ROOT, stdio: 'ignore' });
    // Kill it as soon as the first output exists: later files are in flight or not started.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const files = await readdir(out, { recursive: true }).catch(() => []);
      if (files.some((f) => String(f).endsWith('.mrt'))) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const files = (await readdir(out, { recursive: true })).map(String);
    const mrts = files.filter((f) => f.endsWith('.mrt'));
    expect(mrts.length).toBeGreaterThan(0);
    expect(mrts.length).toBeLessThan(Object.keys(inputs).length);
    for (const f of mrts) {
      const bytes = new Uint8Array(await readFile(join(out, f)));
      const info = readHeader(bytes);
      expect(info.totalLength, f).toBe(bytes.length);
    }
  });

  it('rejects alpha on request and oversized images before decoding them', async () => {
    const r = await mrt(['encode', join(dir, 'src/alpha.png'), '-o', join(dir, 'alpha.mrt'), '--reject-alpha']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/alpha channel/);
    const huge = join(dir, 'huge.png');
    await sharp({ create: { width: 16385, height: 2, channels: 3, background: '#808080' } }).png().toFile(huge);
    const h = await mrt(['encode', huge, '-o', join(dir, 'huge.mrt')]);
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/image 16385x2 .* exceeds the size limit of 16384 px a side/);
    // Within the side limit, past the image limit (64 Mi): the first 4 KB of a 9000x9000
    // PNG. Refused on its header (a decoder would fail on the missing pixel data instead).
    const many = join(dir, 'many.png');
    const full = await sharp({ create: { width: 9000, height: 9000, channels: 3, background: '#808080' } }).png({ compressionLevel: 1 }).toBuffer();
    await writeFile(many, full.subarray(0, 4096));
    const m = await mrt(['encode', many, '-o', join(dir, 'many.mrt')]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/many\.png: image 9000x9000 \(81\.0 MP\) exceeds the size limit of 16384 px a side and 67\.1 MP/);
  });

  it('refuses an output that is a FIFO or a folder at once, for encode and decode (it used to hang on the FIFO)', async () => {
    const fifo = join(dir, 'out.fifo');
    await run('mkfifo', [fifo]);
    const input = join(dir, 'src/odd.png');
    const e = await mrt(['encode', input, '-o', fifo], { timeout: 60_000 });
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/out\.fifo exists and is a FIFO, not a regular file/);
    expect(e.stderr).toContain('0 encoded, 0 up to date, 1 failed');
    // a mirrored output that is a folder, next to one that is fine
    const out = join(dir, 'fifo-out');
    await mkdir(join(out, 'odd.mrt'), { recursive: true });
    const m = await mrt(['encode', input, join(dir, 'src/grey.png'), '-o', out], { timeout: 60_000 });
    expect(m.stderr).toMatch(/odd\.mrt exists and is a folder, not a regular file/);
    expect(m.stderr).toContain('1 encoded, 0 up to date, 1 failed');
    const mrtFile = join(dir, 'det-a.mrt');
    if (!(await stat(mrtFile).catch(() => null))) expect((await mrt(['encode', input, '-o', mrtFile])).code).toBe(0);
    const d = await mrt(['decode', mrtFile, '-o', fifo], { timeout: 60_000 });
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/out\.fifo exists and is a FIFO/);
    expect((await stat(fifo)).isFIFO()).toBe(true);
  });

  it('an output folder that cannot be written fails at once, before any image is encoded', async () => {
    // a regular file where a folder of the output path should be: unwritable for root too
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const r = await mrt(['encode', join(dir, 'src'), '-o', join(file, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write to output folder .*a-file\/out: a part of the path is a file, not a folder \(ENOTDIR\)/);
    expect(r.stderr).toContain(`0 encoded, 0 up to date, ${Object.keys(inputs).length} failed`);
    expect(r.stderr).not.toMatch(/\] encoded/);
    const d = await mrt(['decode', join(dir, 'det-a.mrt'), '-o', join(file, 'x.png')]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/cannot write to output folder .*a-file: a part of the path is a file/);
  });

  it.runIf(canReadOnly)('a read-only output folder fails at once, naming the reason (was "ENOENT mkdir" after encoding)', async () => {
    const ro = join(dir, 'read-only');
    const undo = (await readOnly(ro))!;
    try {
      const r = await mrt(['encode', join(dir, 'src'), '-o', join(ro, 'out')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot write to output folder .*read-only\/out: (operation not permitted|permission denied)/);
      expect(r.stderr).toContain(`0 encoded, 0 up to date, ${Object.keys(inputs).length} failed`);
    } finally {
      await undo();
    }
  });

  it('follows symbolic links to images and folders, and reports broken ones and loops', async () => {
    const links = join(dir, 'links');
    await mkdir(join(links, 'sub'), { recursive: true });
    await symlink(join(dir, 'src/odd.png'), join(links, 'linked.png'));
    await symlink(join(dir, 'src/nested'), join(links, 'nested-link'));
    await symlink(join(dir, 'nowhere.png'), join(links, 'gone.png'));
    await symlink(links, join(links, 'sub/loop'));
    await symlink(join(dir, 'nowhere.png'), join(dir, 'gone-top.png'));
    const out = join(dir, 'links-out');
    const r = await mrt(['encode', links, join(dir, 'gone-top.png'), '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gone\.png: broken symbolic link \(to .*nowhere\.png\)/);
    expect(r.stderr).toMatch(/gone-top\.png: broken symbolic link \(to .*nowhere\.png\)/);
    expect(r.stderr).toMatch(/sub\/loop: symbolic link loop: the folder contains itself/);
    expect(r.stderr).toContain('2 encoded, 0 up to date, 3 failed');
    expect(readHeader(new Uint8Array(await readFile(join(out, 'linked.mrt')))).header.width).toBe(101);
    expect(readHeader(new Uint8Array(await readFile(join(out, 'nested-link/portrait.mrt')))).header.width).toBe(64);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await mrt(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('gives usage errors with exit code 2', async () => {
    expect((await mrt(['encode', join(dir, 'src/odd.png')])).code).toBe(2);
    expect((await mrt(['frobnicate'])).code).toBe(2);
    const r = await mrt(['encode', join(dir, 'src/odd.png'), '-o', join(dir, 'x.mrt'), '--layers', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--layers must be a non-negative integer/);
    const c = await mrt(['encode', join(dir, 'src/odd.png'), '-o', join(dir, 'x.mrt'), '--coarse-layers', 'some']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--coarse-layers must be a non-negative integer/);
    for (const [effort, message] of [['0', /effort must be an integer in 1\.\.9, got 0/], ['10', /effort must be an integer in 1\.\.9, got 10/], ['x', /--effort must be a non-negative integer, got 'x'/]] as const) {
      const e = await mrt(['encode', join(dir, 'src/odd.png'), '-o', join(dir, 'x.mrt'), '--effort', effort]);
      expect([e.code, e.stderr], effort).toEqual([2, expect.stringMatching(message)]);
    }
  });

  it('--effort: each level writes a decodable file, and another level is another content hash (re-encoded)', async () => {
    const input = join(dir, 'src/odd.png');
    const out = join(dir, 'effort.mrt');
    for (const effort of ['1', '9']) {
      const r = await mrt(['encode', input, '-o', out, '--effort', effort]);
      expect([r.code, r.stderr], effort).toEqual([0, expect.stringContaining('1 encoded, 0 up to date')]);
      const d = await mrt(['decode', out, '-o', join(dir, `effort-${effort}.png`)]);
      expect(d.code, d.stderr).toBe(0);
      expect((await sharp(join(dir, `effort-${effort}.png`)).metadata()).width).toBe(101);
    }
    expect((await mrt(['encode', input, '-o', out, '--effort', '9'])).stderr).toContain('0 encoded, 1 up to date');
  });

  it('-j 2 (worker threads) writes the same bytes as -j 1', async () => {
    const files = ['odd.png', 'grey.png', 'webp.webp'].map((f) => join(dir, 'src', f));
    const [one, two] = [join(dir, 'j1'), join(dir, 'j2')];
    expect((await mrt(['encode', ...files, '-o', `${one}/`, '-j', '1'])).code).toBe(0);
    const r = await mrt(['encode', ...files, '-o', `${two}/`, '-j', '2']);
    expect([r.code, r.stderr]).toEqual([0, expect.stringContaining('3 encoded, 0 up to date, 0 failed')]);
    for (const f of ['odd.mrt', 'grey.mrt', 'webp.mrt']) expect(Buffer.compare(await readFile(join(one, f)), await readFile(join(two, f))), f).toBe(0);
  });
  it('--coarse-layers 0 writes the layer-major order, N the coarse-first order over N layers', async () => {
    // 2.8 either way: the layers past the RCM are coded with the neighbourhood tables; 2.10 when
    // the model's coarse RCM codes the coarse pass
    for (const [n, order, minor] of [['0', 'layer-major', '2.8'], ['5', 'coarse-first', coarseRcmLayers ? '2.10' : '2.8']] as const) {
      const out = join(dir, `coarse${n}.mrt`);
      const r = await mrt(['encode', join(dir, 'src/odd.png'), '-o', out, '--coarse-layers', n, '--layers', '8']);
      expect(r.code, r.stderr).toBe(0);
      const info = JSON.parse((await mrt(['info', out, '--json'])).stdout);
      expect([info.version, info.layout.order, info.layout.coarseLayers, info.coarseRcm]).toEqual([minor, order, Number(n), n !== '0' && coarseRcmLayers > 0]);
    }
  });
});
