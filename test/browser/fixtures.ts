// Test fixtures for the browser tests: the built client, and Kodak images encoded by the
// Node encoder (src/encoder) with the models under test, cached on disk by model hash.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { buildClient } from '../../scripts/build-client.ts';
import { FORMAT_MAJOR, FORMAT_MINOR, readHeader } from '../../src/format/index.ts';
import { DIST, KODAK, ROOT } from './harness.ts';

/** The models the tests use: MRT_MODELS_DIR, else models/. */
export const MODELS = resolve(process.env.MRT_MODELS_DIR || join(ROOT, 'models'));

export function haveModels(): boolean {
  return ['manifest.json', 'decoder.onnx', 'encoder.onnx'].every((f) => existsSync(join(MODELS, f)));
}

export function haveKodak(): boolean {
  return existsSync(join(KODAK, 'kodim01.png'));
}

let built: Promise<string> | null = null;
/**
 * Builds dist/client once per test process (esbuild + copies; fast when up to date).
 * Test files run in parallel processes: a lock directory keeps two builds from writing
 * the same files at once.
 */
export function ensureClient(): Promise<string> {
  built ??= (async () => {
    const lock = join(DIST, '..', '.client-build.lock');
    await mkdir(join(DIST, '..'), { recursive: true });
    for (let i = 0; ; i++) {
      try {
        await mkdir(lock);
        break;
      } catch {
        // Held by another test process; a lock older than a minute is stale.
        try {
          if (Date.now() - (await stat(lock)).mtimeMs > 60_000) await rm(lock, { recursive: true, force: true });
        } catch {
          /* gone meanwhile */
        }
        if (i > 600) throw new Error(`client build lock ${lock} stays busy`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    try {
      // precompressing only the small files: brotli 11 of the runtime's .wasm takes minutes
      // once, and the test server sends every file as it is
      return await buildClient({ out: DIST, jpeg: false, quiet: true, modelsDir: MODELS, compressUpTo: 1 << 20 });
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  })();
  return built;
}

export async function modelHash(): Promise<string> {
  return JSON.parse(await readFile(join(MODELS, 'manifest.json'), 'utf8')).modelHash as string;
}

let modelsP: Promise<unknown> | null = null;
async function models() {
  const { loadModels } = await import('../../src/encoder/index.ts');
  modelsP ??= loadModels(MODELS.endsWith('/') ? MODELS : MODELS + '/');
  return modelsP as ReturnType<typeof loadModels>;
}

export interface FixtureSpec {
  /** Kodak name, e.g. 'kodim23'. */
  name: string;
  /** Crop (left, top, width, height) before encoding; whole image when omitted. */
  crop?: [number, number, number, number];
  layersPerChunk?: number;
  final?: 'none' | 'webp' | 'jpeg' | 'avif';
  /** The learned chunks' cap over the plain final (EncodeOptions.maxOverhead); default null: every layer. */
  maxOverhead?: number | null;
  /** The encoder's closed-loop tail (default on, as the encoder). */
  tailRdo?: boolean;
}

function key(s: FixtureSpec): string {
  return [s.name, s.crop?.join('x') ?? 'full', `lpc${s.layersPerChunk ?? 'auto'}`, s.final ?? 'none', ...(s.maxOverhead != null ? [`cap${s.maxOverhead}`] : []), ...(s.tailRdo === false ? ['notail'] : [])].join('-');
}

/** The source pixels of a fixture (RGB, after the crop). */
export async function sourceRgb(s: FixtureSpec): Promise<{ width: number; height: number; data: Uint8Array }> {
  let img = sharp(join(KODAK, `${s.name}.png`)).removeAlpha();
  if (s.crop) img = img.extract({ left: s.crop[0], top: s.crop[1], width: s.crop[2], height: s.crop[3] });
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** The source as PNG bytes (what the page compares the canvas with). */
export async function sourcePng(s: FixtureSpec): Promise<Uint8Array> {
  const rgb = await sourceRgb(s);
  const b = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } }).png().toBuffer();
  return new Uint8Array(b);
}

/** Encodes (or reads from the cache) a fixture with the Node encoder. */
/** A hash of the code that decides a fixture's bytes (encoder, codec, format, model I/O). */
let codeHash: string | undefined;
function encoderCodeHash(): string {
  if (codeHash) return codeHash;
  const h = createHash('sha256');
  for (const part of ['encoder', 'codec', 'format', 'model']) {
    const dir = join(ROOT, 'src', part);
    for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
      if (f.endsWith('.ts') || f.endsWith('.js')) h.update(f).update(readFileSync(join(dir, f)));
    }
  }
  return (codeHash = h.digest('hex').slice(0, 12));
}

export async function encodeFixture(s: FixtureSpec): Promise<Uint8Array> {
  // Keyed by model, container version and the encoder's code (an encoder change such as the
  // closed-loop tail changes the bytes at the same version); a cached file the current
  // parser rejects is re-encoded.
  const dir = join(tmpdir(), 'mrt-client-fixtures', `${(await modelHash()).slice(0, 16)}-v${FORMAT_MAJOR}.${FORMAT_MINOR}-${encoderCodeHash()}`);
  const file = join(dir, `${key(s)}.mrt`);
  if (existsSync(file)) {
    const cached = new Uint8Array(await readFile(file));
    try {
      readHeader(cached);
      return cached;
    } catch {
      /* stale: encode again */
    }
  }
  const { encode } = await import('../../src/encoder/index.ts');
  const input = s.crop ? await sourcePng(s) : join(KODAK, `${s.name}.png`);
  const bytes = await encode(input, { models: await models(), layersPerChunk: s.layersPerChunk, final: s.final ?? 'none', maxOverhead: s.maxOverhead ?? null, tailRdo: s.tailRdo });
  await mkdir(dir, { recursive: true });
  // Write then rename: a parallel test process never reads a half-written file.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
  return bytes;
}

export const KODAK_NAMES = Array.from({ length: 24 }, (_, i) => `kodim${String(i + 1).padStart(2, '0')}`);
