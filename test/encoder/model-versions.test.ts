// Files stored with a model that is no longer the default keep decoding in Node: decode()
// and `mrt decode` pick the model the stream names among the shipped default, the versioned
// folders <root>/<hash prefix>/ and --models DIR, and refuse a stream whose model is absent.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, DecodeError, encode, loadModels, type Models } from '../../src/encoder/index.ts';
import { decoderInputs } from '../../src/encoder/decode.ts';
import { runDecoder } from '../../src/encoder/models.ts';
import { shippedModels } from '../../src/encoder/model-dirs.ts';
import { decodeMrt, REGENERATE_BY_DEFAULT } from '../../src/codec/index.ts';
import { readHeader } from '../../src/format/index.ts';
import { makeAltModel, makeModelsRoot, type AltModel } from '../models/alt-model.ts';
import { psnr } from '../../bench/lib/metrics.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const KODAK = new URL('../../../shared/data/kodak/', import.meta.url).pathname;
const run = promisify(execFile);

let work: string;
let alt: AltModel;
let altModels: Models;
let defaults: Models;
let root: string;
let mrt: Uint8Array;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mrt-model-versions-'));
  alt = await makeAltModel(join(work, 'alt'));
  root = await makeModelsRoot(join(work, 'root'), alt);
  [altModels, defaults] = await Promise.all([loadModels(alt.dir), loadModels()]);
  const png = new Uint8Array(await sharp(join(KODAK, 'kodim23.png')).extract({ left: 200, top: 100, width: 96, height: 64 }).png().toBuffer());
  mrt = await encode(png, { models: altModels, final: 'none' });
  await writeFile(join(work, 'alt.mrt'), mrt);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe('a stream of a model that is not the default', () => {
  it('names the other model, whose decoder paints other pixels than the default one from the same tokens', async () => {
    expect(Buffer.from(readHeader(mrt).header.modelHash).toString('hex')).toBe(alt.prefix);
    expect(alt.manifest.modelHash).not.toBe(defaults.manifest.modelHash);
    const sd = decodeMrt(mrt, { rcm: altModels.rcm });
    const header = sd.header!;
    const outs = [];
    for (const m of [altModels, defaults]) {
      const { g, z, mask, base } = await decoderInputs(m, header, sd, REGENERATE_BY_DEFAULT);
      outs.push(await runDecoder(m, z, mask, base, g));
    }
    let diff = 0;
    for (let i = 0; i < outs[0]!.length; i++) diff += Math.abs(outs[0]![i]! - outs[1]![i]!);
    // mean absolute difference in [0, 1] units: far above float noise
    expect(diff / outs[0]!.length).toBeGreaterThan(0.01);
  });

  it('decode() finds it in its versioned folder and paints what decoding with that folder directly paints', async () => {
    const direct = await decode(mrt, { models: altModels });
    const found = await decode(mrt, { modelsRoot: root });
    expect(found.source).toBe('tokens');
    expect(same(found.image.data, direct.image.data)).toBe(true);
    // and a prefix, too
    const part = readHeader(mrt).chunkEnds[1]!;
    expect(same((await decode(mrt, { modelsRoot: root, bytes: part })).image.data, (await decode(mrt, { models: altModels, bytes: part })).image.data)).toBe(true);
    // the default model's streams still decode with the default
    const png = new Uint8Array(await sharp(join(KODAK, 'kodim23.png')).extract({ left: 0, top: 0, width: 64, height: 64 }).png().toBuffer());
    const plain = await encode(png, { models: defaults, final: 'none' });
    expect(same((await decode(plain, { modelsRoot: root })).image.data, (await decode(plain, { models: defaults })).image.data)).toBe(true);
  });

  it('without its folder: refused, naming its hash (never decoded by another model)', async () => {
    const bare = await makeModelsRoot(join(work, 'bare'), null);
    const e = await decode(mrt, { modelsRoot: bare }).catch((x) => x);
    expect(e).toBeInstanceOf(DecodeError);
    expect(e.message).toMatch(new RegExp(`encoded with model with hash ${alt.prefix}, which is not here: no model with that hash among ${defaults.manifest.id}`));
    // the caller's models are used alone, as before
    await expect(decode(mrt, { models: defaults })).rejects.toThrow(/model hash differs/);
  });

  it('a versioned folder is found by its modelHash only: a misnamed folder and a manifest whose hash its files do not give are refused', async () => {
    const misnamed = await makeModelsRoot(join(work, 'misnamed'), alt);
    await rename(join(misnamed, alt.prefix), join(misnamed, '00000000'));
    await expect(shippedModels(misnamed)).rejects.toThrow(/00000000: the folder's name is not the start of its modelHash/);
    const lying = await makeModelsRoot(join(work, 'lying'), alt);
    const m = JSON.parse(await readFile(join(lying, alt.prefix, 'manifest.json'), 'utf8'));
    m.files['decoder.onnx'] = defaults.manifest.files['decoder.onnx'];
    await writeFile(join(lying, alt.prefix, 'manifest.json'), JSON.stringify(m));
    await expect(decode(mrt, { modelsRoot: lying })).rejects.toThrow(/modelHash .* does not match its files/);
  });

  it('mrt decode: --models DIR decodes it; without, the shipped models have no such model and the command says which hash', async () => {
    const out = join(work, 'alt.png');
    await run('node', [join(ROOT, 'bin/mrt.js'), 'decode', join(work, 'alt.mrt'), '-o', out, '--models', alt.dir], { cwd: ROOT });
    const px = await sharp(out).raw().toBuffer();
    expect(same(px, (await decode(mrt, { models: altModels })).image.data)).toBe(true);
    const miss = await run('node', [join(ROOT, 'bin/mrt.js'), 'decode', join(work, 'alt.mrt'), '-o', join(work, 'x.png')], { cwd: ROOT }).then(() => null, (e) => e);
    expect(miss?.code).not.toBe(0);
    expect(miss.stderr).toMatch(new RegExp(`with hash ${alt.prefix}, which is not here`));
  });
});

// A file stored while mrt-v0.13 (research data) was the default, written then by
// test/golden/previous-model.ts with its whole-file paint: it keeps decoding now that the
// default is another model, from models/a5fcce48/, or from the decode-only copy the npm
// package ships (package.json `files`: no encoder).
describe('a file stored with the previous default model', () => {
  const GOLDEN = join(ROOT, 'test/golden/mrt-v0.13-kodim23-128x96');
  const PREVIOUS = join(ROOT, 'models/a5fcce48');
  let stored: Uint8Array;
  let painted: Uint8Array;
  beforeAll(async () => {
    stored = new Uint8Array(await readFile(`${GOLDEN}.mrt`));
    painted = new Uint8Array(await sharp(`${GOLDEN}.png`).raw().toBuffer());
  });

  it('names a shipped versioned folder, not the default, and decode() paints what it painted when it was the default', async () => {
    expect(Buffer.from(readHeader(stored).header.modelHash).toString('hex')).toBe('a5fcce48');
    expect(defaults.manifest.modelHash.startsWith('a5fcce48')).toBe(false);
    expect((await shippedModels()).map((m) => m.manifest.modelHash.slice(0, 8))).toContain('a5fcce48');
    const { image } = await decode(stored);
    expect([image.width, image.height]).toEqual([128, 96]);
    expect(psnr(image.data, painted)).toBeGreaterThan(50);
  });

  it('a decode-only copy (no encoder.onnx, as in the npm package) decodes it and refuses to encode, saying why', async () => {
    const copyRoot = join(work, 'decode-only');
    const dir = join(copyRoot, 'a5fcce48');
    await mkdir(dir, { recursive: true });
    for (const f of ['manifest.json', 'decoder.onnx', 'rcm.json', 'preview.bin']) await copyFile(join(PREVIOUS, f), join(dir, f));
    const { image } = await decode(stored, { modelsRoot: copyRoot });
    expect(psnr(image.data, painted)).toBeGreaterThan(50);
    const copy = await loadModels(dir);
    expect(copy.encoder).toBeNull();
    const png = await sharp(`${GOLDEN}.png`).png().toBuffer();
    await expect(encode(new Uint8Array(png), { models: copy })).rejects.toThrow(/decode-only copy \(no encoder\.onnx\)/);
  });
});
