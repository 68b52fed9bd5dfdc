// .mrt prefix → pixels in Node: what a client that received the first N bytes paints.
import { layoutMismatch, modelHashMatches, modelLabel, readFirstPaint, readHeader, type MrtHeader, type MrtPlaceholder } from '../format/index.ts';
import { decodeMrt, layoutForImage, regenerate, regenerationSeed, REGENERATE_BY_DEFAULT, tokensToZ, type Regeneration } from '../codec/index.ts';
type DecodedMrt = ReturnType<typeof decodeMrt>;
import { chwToPixels, coarseMaskOf, geometry, pixelsToChw, type Geometry } from '../model/io.ts';
import { DEBLOCK_DEFAULT, deblockPaint, type DeblockParams } from '../model/deblock.ts';
import { InputError, resizeRgb, sizedInput, type RgbImage } from './image-io.ts';
import { modelsForStream } from './model-dirs.ts';
import { loadModels, modelHashBytes, runDecoder, type Models } from './models.ts';
import { decodePlaceholder } from './placeholder.ts';

export interface DecodeOptions {
  /** The models to decode with (a stream naming another model is refused); default: the shipped model the stream names (`modelsFor`). */
  models?: Models;
  /**
   * Without `models`: the shipped models (default: the package's models/): the default model,
   * and each earlier one in its versioned folder <root>/<first 8 hex digits of its modelHash>/.
   */
  modelsRoot?: string;
  /** Bytes of the stream the client received; default all. */
  bytes?: number;
  /**
   * Fill tokens not received from the prior (default REGENERATE_BY_DEFAULT): true with its
   * expected values, `{ temperature }` with tokens drawn from it (seeded by the stream's
   * content hash: the same prefix regenerates the same tokens).
   */
  regenerate?: Regeneration;
  /**
   * Smooth the window-grid seams of a learned-layer paint (src/model/deblock.ts): true for the
   * measured filter, or its parameters; default DEBLOCK_BY_DEFAULT.
   */
  deblock?: boolean | DeblockParams;
  /**
   * 'image' (default): learned-layer paints scaled up to the image's size; 'learned': at the
   * learned layer's own size, as a client shows a large photo on a smaller display (the final
   * layer is always at the image's size).
   */
  size?: 'image' | 'learned';
}

/** Learned-layer paints are deblocked unless asked not to (bench/deblock.ts measures both). */
export const DEBLOCK_BY_DEFAULT = true;

export interface DecodeResult {
  /** At the image's size (2.11: a learned layer smaller than the image is scaled up to it, as a client shows it), unless `size: 'learned'`. */
  image: RgbImage;
  /** (2.11) the learned layer's size, when the pixels were scaled up from it */
  learnedSize?: { width: number; height: number };
  /** What produced the pixels: the placeholder alone (no Index yet), the model, or the final layer. */
  source: 'placeholder' | 'tokens' | 'final';
  bytesUsed: number;
  chunks: number;
  /**
   * Stream symbols received (a prefix of the stream order), including those of a partly
   * received chunk: tokens, and (2.8 coarse-first) the coarse trits before them.
   */
  tokens: number;
  /** Of `tokens`, those in whole chunks whose checksum passed. */
  verified?: number;
  /** Set when the stream was corrupt or cut inside a message; the image is the best before it. */
  error?: string;
  /**
   * Wall time of the two halves of a learned-layer paint (ms): entropy decoding of every
   * received symbol (a client does it as the bytes arrive), and the decoder run with what
   * follows it (what a client's paint of the prefix costs).
   */
  ms?: { entropy: number; paint: number };
}

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/**
 * Decoding an image inside the stream (placeholder, final layer): one that is not the header's
 * size, or that sharp cannot decode, is a refused stream (DecodeError), not a bad input file.
 */
async function embedded<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new DecodeError(`stream refused: ${e instanceof InputError ? e.message : `cannot decode the ${what}: ${(e as Error).message}`}`);
  }
}

/**
 * The placeholder as a browser paints it before any model runs: scaled over the padded
 * image (smooth upscaling, as canvas drawImage with imageSmoothingQuality 'high') and
 * cropped to the image.
 */
async function paintPlaceholder(p: MrtPlaceholder, paddedW: number, paddedH: number, w: number, h: number): Promise<RgbImage> {
  const data = await embedded('placeholder', async () => (await sizedInput(p.bytes, p.width, p.height, 'placeholder')).removeAlpha().toColourspace('srgb')
    .resize(paddedW, paddedH, { kernel: 'cubic', fit: 'fill' })
    .extract({ left: 0, top: 0, width: w, height: h })
    .raw().toBuffer());
  return { width: w, height: h, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** A learned-layer paint at the image's size (2.11: scaled up, Lanczos 3), as a client shows it; as it is for `size: 'learned'`. */
async function toImageSize(img: RgbImage, width: number, height: number, size: DecodeOptions['size']): Promise<Pick<DecodeResult, 'image' | 'learnedSize'>> {
  if (img.width === width && img.height === height) return { image: img };
  if (size === 'learned') return { image: img, learnedSize: { width: img.width, height: img.height } };
  return { image: await resizeRgb(img, width, height), learnedSize: { width: img.width, height: img.height } };
}

export async function decode(mrt: Uint8Array, options: DecodeOptions = {}): Promise<DecodeResult> {
  const bytes = options.bytes ?? mrt.length;
  if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative integer, got ${options.bytes}`);
  const prefix = mrt.subarray(0, Math.min(bytes, mrt.length));
  const models = options.models ?? (await modelsFor(prefix, { root: options.modelsRoot }));

  const want = modelHashBytes(models.manifest);
  // A client that received only the first N bytes paints every token they complete,
  // including those of a chunk whose rest (and checksum) has not arrived.
  const t0 = performance.now();
  const sd = decodeMrt(prefix, { rcm: models.rcm, modelHash: want, ended: prefix.length === mrt.length });
  const t1 = performance.now();
  const header = sd.header;
  if (sd.error?.code === 'model') throw new DecodeError(`stream does not fit the loaded model ${models.manifest.id}: ${sd.error.message}`);
  if (!header) {
    // Before the Index arrives a client paints the placeholder natively, if it has it.
    const first = (() => {
      try {
        return readFirstPaint(prefix);
      } catch {
        return null;
      }
    })();
    if (first?.placeholder) {
      const painted = await paintPlaceholder(first.placeholder, first.paddedWidth, first.paddedHeight, first.width, first.height);
      return {
        ...(await toImageSize(painted, first.imageWidth, first.imageHeight, options.size)),
        source: 'placeholder', bytesUsed: prefix.length, chunks: 0, tokens: 0,
        error: sd.error?.message,
      };
    }
    throw new DecodeError(sd.error ? `nothing to paint: ${sd.error.message}` : `nothing to paint in the first ${prefix.length} bytes`);
  }
  if (!modelHashMatches(header.modelHash, want)) {
    throw new DecodeError(`stream was encoded with model ${modelLabel(header)}, not the loaded ${models.manifest.id} (model hash differs)`);
  }
  const mismatch = layoutMismatch(header.layout, models.manifest.layout);
  if (mismatch) throw new DecodeError(`stream refused: ${mismatch} (${models.manifest.id})`);
  const error = sd.error?.message; // (its message names the byte)

  if (sd.final) {
    const final = sd.final;
    const { data, info } = await embedded('final layer', async () => (await sizedInput(final.bytes, header.imageWidth, header.imageHeight, 'final layer'))
      .removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true }));
    return {
      image: { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
      source: 'final', bytesUsed: prefix.length, chunks: sd.chunks, tokens: sd.known, error,
    };
  }
  const { g, z, mask, base } = await decoderInputs(models, header, sd, options.regenerate ?? REGENERATE_BY_DEFAULT);
  const out = await runDecoder(models, z, mask, base, g);
  const deblock = options.deblock ?? DEBLOCK_BY_DEFAULT;
  if (deblock) deblockPaint(out, g, models.manifest.layout, sd.known, deblock === true ? DEBLOCK_DEFAULT : deblock);
  const px = chwToPixels(out, g.paddedW, g.paddedH, g.width, g.height, 3);
  const sized = await toImageSize({ width: g.width, height: g.height, data: new Uint8Array(px.buffer, px.byteOffset, px.byteLength) }, header.imageWidth, header.imageHeight, options.size);
  return {
    ...sized,
    source: 'tokens', bytesUsed: prefix.length, chunks: sd.chunks, tokens: sd.known, verified: sd.verified, error,
    ms: { entropy: t1 - t0, paint: performance.now() - t1 },
  };
}

/**
 * The models a stream (or a prefix of it) names by its header's model hash: `given` (e.g.
 * `mrt decode --models DIR`), else the shipped default, else a shipped earlier model in its
 * versioned folder under `root` (model-dirs.ts). A stream naming none of them is refused with
 * its hash, never decoded by another model. A prefix without a whole header names none:
 * `given` or the default (its placeholder needs no model).
 */
export async function modelsFor(prefix: Uint8Array, o: { given?: Models; root?: string } = {}): Promise<Models> {
  const header = (() => {
    try {
      return readHeader(prefix).header;
    } catch {
      return null; // decodeMrt below reports why
    }
  })();
  if (!header?.modelHash.length) return o.given ?? (await loadModels(o.root));
  const r = await modelsForStream(header.modelHash, o);
  if ('missing' in r) throw new DecodeError(`stream was encoded with model ${modelLabel(header)}, which is not here: no model with that hash among ${r.missing}`);
  return r.models;
}

/**
 * The decoder's inputs for a parsed stream's tokens: the geometry, z and mask (regenerated
 * from the prior or not) and the base (the decoded placeholder). Shared with the benchmarks
 * that run other decoders on the same inputs.
 */
export async function decoderInputs(models: Models, header: MrtHeader, sd: Pick<DecodedMrt, 'tokens' | 'known'>, regen: Regeneration): Promise<{ g: Geometry; z: Float32Array; mask: Float32Array; base: Float32Array }> {
  if (!header.placeholder) throw new DecodeError('stream has no placeholder; this decoder needs it as the model base');

  const layout = models.manifest.layout;
  const g = geometry(header.width, header.height, layout);
  const ph = header.placeholder;
  // the model's base is the padded image at 1/baseFactor: a placeholder of another size is no base
  if (ph.width !== g.baseW || ph.height !== g.baseH) throw new DecodeError(`stream refused: placeholder ${ph.width}x${ph.height}, the model's base for ${g.width}x${g.height} is ${g.baseW}x${g.baseH}`);
  const base = pixelsToChw(await embedded('placeholder', () => decodePlaceholder(ph.bytes, ph.width, ph.height)), g.baseW, g.baseH, 3);
  const tokenLayout = layoutForImage(header.width, header.height, header.layout);
  const cm = coarseMaskOf(models.manifest);
  const sample = typeof regen === 'object' ? { temperature: regen.temperature, seed: regenerationSeed(header.contentHash) } : undefined;
  const { z, mask } = regen ? regenerate(tokenLayout, models.rcm, sd.tokens, sd.known, cm, sample) : tokensToZ(tokenLayout, sd.tokens, sd.known, cm);
  return { g, z, mask, base };
}
