// Image → .mrt: placeholder, learned tokens, coarse-to-fine chunks, entropy coding.
import { createHash } from 'node:crypto';
import { geometry, pixelsToChw, quantise, type Geometry } from '../model/io.ts';
import { createPrior, layoutForImage, ModelledStream, streamSymbols, tokensToZ } from '../codec/index.ts';
import { chunkLayers, chunkRanges, COARSE_FIRST_LEVELS, isChunkRule, type ChunkRule, FORMAT_MAJOR, FORMAT_MINOR, fullSizeProblem, imageSizeProblem, learnedSize, readFirstPaint, writeMrt, type MrtHeaderInput, type SizeLayout } from '../format/index.ts';
import { readImage, resizeRgb, type AlphaMode, type RgbImage } from './image-io.ts';
import { loadModels, modelHashPrefix, requireEncoder, runDecoder, runEncoder, type Models } from './models.ts';
import { COARSE_BITS_ALPHA, EARLY_D_REF, EARLY_LOOP, rechooseTokens, TAIL_D_REF } from './tail-rdo.ts';
import { DEFAULT_EFFORT, effortLevel } from './effort.ts';
import { makePlaceholder, type Placeholder, type PlaceholderFormat } from './placeholder.ts';
import { loadSharp } from './peers.ts';

export type FinalFormat = 'none' | 'avif' | 'webp' | 'jpeg';

export interface EncodeOptions {
  /** Loaded models; loaded from the default models/ folder when omitted. */
  models?: Models;
  /** Token layers to keep per window (1..T); default all. */
  layers?: number;
  /**
   * Layers per chunk, or a rule (src/format/chunking.ts): 'auto', 'doubling' or 'doubling64'. Each chunk
   * costs a checksum and a chunk-table entry; a reader checks a chunk when it is whole.
   */
  layersPerChunk?: number | ChunkRule;
  /**
   * Byte target for the native WebP placeholder. Default 'auto': as large as lets the
   * first paint (preamble + Header message: size and placeholder; the Index follows it)
   * fit FIRST_PAINT_BYTES, so the placeholder paints within that many bytes.
   */
  placeholderBytes?: number | 'auto';
  /**
   * Placeholder image format: 'auto' (default: AVIF or WebP, whichever is closer to the
   * image at the byte target; AVIF on every Kodak image), 'avif', or 'webp' (for browsers
   * without AVIF decoding, e.g. Safari before 16: they cannot paint an AVIF placeholder).
   */
  placeholderFormat?: PlaceholderFormat;
  /** Entropy-coding prior; default 'rcm' when the model ships one. */
  prior?: 'rcm' | 'static';
  /**
   * Full-quality final layer appended after the tokens (default 'avif'; 'none': the learned
   * layer is the whole image, which then must fit its size limit).
   */
  final?: FinalFormat;
  /** Quality of the final layer, 0-100 (default: sharp's, 50 for AVIF). */
  finalQuality?: number;
  /**
   * With a final layer: the learned chunks stop where the whole file would grow past the plain
   * final image by more than this fraction (default 0.10); null: never cut them.
   */
  maxOverhead?: number | null;
  /** What to do with an alpha channel. */
  alpha?: AlphaMode;
  /**
   * Re-choose the tokens from layer EARLY_LOOP.from (32) on closed-loop, rate-distortion
   * optimised (src/encoder/tail-rdo.ts): before the split decoder's layers through the
   * preview basis, re-running the decoder every few layers, after them through the tail
   * basis. Default: on for models with a split decoder.
   */
  tailRdo?: boolean;
  /**
   * Send the tokens of the first N layers as coarse trits first, then their exact values
   * (format 2.8 'coarse-first' order; the whole stream costs the same bytes, a short prefix
   * holds a coarse value for many more tokens). Default: the layers the model's coarse RCM
   * covers (defaultCoarseLayers), DEFAULT_COARSE_LAYERS for 9-level models without one, 0
   * (layer-major order) otherwise; at most the layers kept.
   */
  coarseLayers?: number;
  /**
   * Encoder effort, 1..9 (src/encoder/effort.ts): higher spends more time for better prefixes.
   * 9 runs the full closed loop; the default (DEFAULT_EFFORT) is within 0.05 dB of it at every
   * budget (bench/encode-speed.ts).
   */
  effort?: number;
}

/**
 * The encoder's default coarse pass (layers), for models with 9 levels. Kodak, mrt-v0.7
 * (bench/rd.ts, PSNR at 512 B / 1 K / 2 K / 4 K against the layer-major 21.55 / 22.48 / 23.82 /
 * 25.48): K = 32: 21.74 / 22.73 / 23.85 / 25.46; 64: 21.74 / 22.76 / 23.97 / 25.46; 128: 21.74 /
 * 22.74 / 24.07 / 25.51; 192: 21.74 / 22.73 / 24.07 / 25.53. 128 is the layers the RCM covers.
 */
export const DEFAULT_COARSE_LAYERS = 128;

/**
 * The default coarse pass of a model: the layers its coarse RCM covers (format 2.10; with
 * mrt-v0.9's RCM over 192 layers, Kodak at 1 K / 2 K / 4 K / 8 K: 22.966 / 24.246 / 25.604 /
 * 26.515 dB against 22.979 / 24.216 / 25.569 / 26.509 with 128, bench/rd.ts), else
 * DEFAULT_COARSE_LAYERS for 9-level models, else 0.
 */
export function defaultCoarseLayers(models: Pick<Models, 'manifest' | 'rcm'>): number {
  if (models.manifest.layout.levels !== COARSE_FIRST_LEVELS) return 0;
  return Math.min(models.rcm?.coarse?.T ?? DEFAULT_COARSE_LAYERS, models.manifest.layout.tokens);
}

/** The encoder's default chunking. */
export const DEFAULT_CHUNKING: ChunkRule = 'doubling64';

const FINAL_MIME: Record<Exclude<FinalFormat, 'none'>, string> = { avif: 'image/avif', webp: 'image/webp', jpeg: 'image/jpeg' };
/** sharp's own defaults (AVIF 50, WebP 80; JPEG 85 with mozjpeg) */
const FINAL_DEFAULT_QUALITY: Record<Exclude<FinalFormat, 'none'>, number> = { avif: 50, webp: 80, jpeg: 85 };
/** The final layer's format when none is asked for. */
export const DEFAULT_FINAL: FinalFormat = 'avif';
/** How much larger than the plain final image a whole file may be (the learned chunks are cut to fit). */
export const DEFAULT_MAX_OVERHEAD = 0.1;

/** The options that change the output bytes, in a fixed order (content hash, info). */
export function normaliseOptions(models: Models, o: EncodeOptions) {
  const T = models.manifest.layout.tokens;
  const layers = o.layers ?? T;
  if (!Number.isInteger(layers) || layers < 0 || layers > T) throw new RangeError(`layers must be an integer in 0..${T}, got ${o.layers}`);
  const layersPerChunk = o.layersPerChunk ?? DEFAULT_CHUNKING;
  if (!isChunkRule(layersPerChunk) && (!Number.isInteger(layersPerChunk) || layersPerChunk < 1)) {
    throw new RangeError(`layersPerChunk must be 'auto', 'doubling', 'doubling64' or a positive integer, got ${o.layersPerChunk}`);
  }
  const placeholderBytes = o.placeholderBytes ?? 'auto';
  if (placeholderBytes !== 'auto' && (!Number.isInteger(placeholderBytes) || placeholderBytes < 40 || placeholderBytes > 65536)) {
    throw new RangeError(`placeholderBytes must be 'auto' or an integer in 40..65536, got ${o.placeholderBytes}`);
  }
  const placeholderFormat = o.placeholderFormat ?? 'auto';
  if (!['auto', 'avif', 'webp'].includes(placeholderFormat)) throw new RangeError(`placeholderFormat must be auto|avif|webp, got ${o.placeholderFormat}`);
  const prior = o.prior ?? (models.rcm ? 'rcm' : 'static');
  if (prior === 'rcm' && !models.rcm) throw new Error(`model ${models.manifest.id} ships no RCM weights; use prior 'static'`);
  const final = o.final ?? DEFAULT_FINAL;
  if (!['none', 'avif', 'webp', 'jpeg'].includes(final)) throw new RangeError(`final must be none|avif|webp|jpeg, got ${final}`);
  const finalQuality = final === 'none' ? 0 : (o.finalQuality ?? FINAL_DEFAULT_QUALITY[final]);
  if (!Number.isInteger(finalQuality) || finalQuality < 0 || finalQuality > 100) throw new RangeError(`finalQuality must be in 0..100, got ${o.finalQuality}`);
  const maxOverhead = final === 'none' ? null : o.maxOverhead === undefined ? DEFAULT_MAX_OVERHEAD : o.maxOverhead;
  if (maxOverhead !== null && !(Number.isFinite(maxOverhead) && maxOverhead >= 0)) throw new RangeError(`maxOverhead must be a fraction >= 0 or null, got ${o.maxOverhead}`);
  const alpha = o.alpha ?? { background: '#ffffff' };
  requireEncoder(models); // before any work: a decode-only copy encodes nothing
  if (o.tailRdo === true && !models.tail) throw new Error(`model ${models.manifest.id} has no split decoder: tailRdo needs its tail basis`);
  // the layer the closed loop starts from and its per-image λ references are part of what the
  // bytes depend on (an output of an encoder that chose otherwise is not up to date)
  const tailRdo = (o.tailRdo ?? models.tail !== null) ? { from: EARLY_LOOP.from, earlyDRef: EARLY_D_REF, tailDRef: TAIL_D_REF } : false;
  const nineLevels = models.manifest.layout.levels === COARSE_FIRST_LEVELS;
  if (o.coarseLayers !== undefined && (!Number.isInteger(o.coarseLayers) || o.coarseLayers < 0 || o.coarseLayers > T)) throw new RangeError(`coarseLayers must be an integer in 0..${T}, got ${o.coarseLayers}`);
  if (o.coarseLayers && !nineLevels) throw new Error(`model ${models.manifest.id} has ${models.manifest.layout.levels} levels: a coarse pass needs ${COARSE_FIRST_LEVELS}`);
  const coarseLayers = Math.min(o.coarseLayers ?? defaultCoarseLayers(models), layers);
  const effort = o.effort ?? DEFAULT_EFFORT;
  effortLevel(effort); // throws on anything but 1..9
  // the container version the writer produces: a newer writer re-encodes what an older one wrote
  const container = `${FORMAT_MAJOR}.${FORMAT_MINOR}`;
  return { model: models.manifest.id, container, layers, layersPerChunk, placeholderBytes, placeholderFormat, prior, final, finalQuality, maxOverhead, alpha, tailRdo, coarseLayers, effort };
}

/** What the size rule needs of the stream the encoder writes: the model's window, T and the coarse pass. */
export function sizeLayout(models: Models, opts: ReturnType<typeof normaliseOptions>): SizeLayout {
  return { window: models.manifest.layout.window, streamLayers: models.manifest.layout.tokens + opts.coarseLayers };
}

export const CONTENT_HASH_BYTES = 4;

/** Content hash: what the output depends on (source bytes, options, model). */
export function contentHash(source: Uint8Array, opts: ReturnType<typeof normaliseOptions>, models: Models): Uint8Array {
  const h = createHash('sha256');
  h.update(source);
  h.update(JSON.stringify(opts));
  h.update(models.manifest.modelHash);
  // 4 bytes: enough to tell the versions of one output apart (a stale output matches by
  // chance once in 2^32), and every byte before the first token counts.
  return Uint8Array.from(h.digest().subarray(0, CONTENT_HASH_BYTES));
}

/** Pads to the window grid by repeating the edge pixels (as the decoders crop it back). */
async function padRgb(img: RgbImage, g: Geometry): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extend({ right: g.paddedW - img.width, bottom: g.paddedH - img.height, extendWith: 'copy' })
    .raw()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Encodes a source image (file path or bytes) to .mrt bytes. Deterministic for the same input and options. */
export async function encode(input: string | Uint8Array, options: EncodeOptions = {}): Promise<Uint8Array> {
  const models = options.models ?? (await loadModels());
  const opts = normaliseOptions(models, options);
  const source = typeof input === 'string' ? new Uint8Array(await (await import('node:fs/promises')).readFile(input)) : input;
  const img = await readImage(source, opts.alpha);
  return encodeRgb(img, models, opts, contentHash(source, opts, models));
}

/** The first paint (preamble + Header message, placeholder included) fits this many bytes by default. */
export const FIRST_PAINT_BYTES = 256;
/** A placeholder smaller than this is not worth painting; 'auto' never goes below it. */
const MIN_AUTO_PLACEHOLDER = 60;

export async function encodeRgb(img: RgbImage, models: Models, opts: ReturnType<typeof normaliseOptions>, hash: Uint8Array): Promise<Uint8Array> {
  const tooLarge = fullSizeProblem(img.width, img.height);
  if (tooLarge) throw new RangeError(tooLarge);
  const layout = models.manifest.layout;
  // 2.11: a photo past the learned layer's limit is coded as a downscaled learned layer; the final layer carries it whole
  const size = learnedSize(img.width, img.height, layout.window);
  const downscaled = size.width !== img.width || size.height !== img.height;
  if (downscaled && opts.final === 'none') {
    throw new RangeError(`image ${img.width}x${img.height} is larger than the learned layer's limit (${size.width}x${size.height} at this aspect): it needs a final layer (final 'avif', the default)`);
  }
  // the same sRGB pixels the final is made from
  const learned = downscaled ? await resizeRgb(img, size.width, size.height) : img;
  const learnedTooLarge = imageSizeProblem(learned.width, learned.height, sizeLayout(models, opts));
  if (learnedTooLarge) throw new RangeError(learnedTooLarge);
  // the final layer is encoded on sharp's threads while the placeholder and the tokens are made (a
  // second core shortens one encode; `-j N` keeps every core busy either way)
  const finalMade = encodeFinal(img, opts);
  finalMade.catch(() => {}); // awaited below: an error before that must not leave it unhandled
  // the model's token layout in the container's terms (the header, the closed loop and the coder use it)
  const modelLayout = { window: layout.window, baseFactor: layout.baseFactor, tokensPerWindow: layout.tokens, levels: layout.levels };
  const g = geometry(learned.width, learned.height, layout);
  const padded = await padRgb(learned, g);
  // 2.6: the layers past the RCM share one static table (fewer bytes; docs/design.md). The
  // Index says so and the coder below uses it: one value for both.
  const sharedLate = opts.prior === 'rcm';
  // 2.10: the coarse pass coded by the model's coarse-trit RCM, when the model has one
  const coarseRcm = sharedLate && opts.coarseLayers > 0 && !!models.rcm?.coarse;
  // no model label (modelId): the hash names the model, and the label's ~10 bytes would come before the first token
  const header = (ph: Placeholder): MrtHeaderInput => ({
    modelHash: modelHashPrefix(models.manifest),
    width: learned.width,
    height: learned.height,
    ...(downscaled ? { imageWidth: img.width, imageHeight: img.height } : {}),
    layout: { ...modelLayout, ...(opts.coarseLayers ? { order: 'coarse-first', coarseLayers: opts.coarseLayers } : {}) },
    prior: opts.prior,
    sharedLate,
    lateContexts: sharedLate,
    coarseRcm,
    coder: 'chained',
    chunkFraming: 'raw',
    placeholder: { mime: ph.mime, width: ph.width, height: ph.height, bytes: ph.bytes },
    contentHash: hash,
    compact: true,
    // 2.7: the Header leaves out the default window and placeholder size: 6 more bytes for the placeholder
    omitDefaults: true,
  });
  // the first paint does not hold the final layer (the Index names it): an empty one of its format stands in
  const standIn = opts.final === 'none' ? undefined : { mime: FINAL_MIME[opts.final], bytes: new Uint8Array(0) };
  const ph = await fitPlaceholder(padded, g, opts, (p) => readFirstPaint(writeMrt(header(p), [], standIn)).firstPaintEnd);
  const base = pixelsToChw(ph.rgb, g.baseW, g.baseH, 3);
  const image = pixelsToChw(padded, g.paddedW, g.paddedH, 3);
  const z = await runEncoder(models, image, base, g);

  const perLayer = g.gridW * g.gridH;
  const count = opts.layers * perLayer;
  const tokens = new Uint8Array(count);
  for (let i = 0; i < count; i++) tokens[i] = quantise(z[i], layout.levels);

  const tokenLayout = layoutForImage(learned.width, learned.height, modelLayout);
  if (opts.tailRdo && models.tail && opts.layers > EARLY_LOOP.from) {
    // (tokenLayout has no coarse pass: every known symbol is an exact token)
    const paint = async (known: number) => {
      const { z: zs, mask } = tokensToZ(tokenLayout, tokens, known * perLayer);
      return runDecoder(models, zs, mask, base, g);
    };
    // (2.8+) the coarse trits of the first coarseLayers layers are paid by every prefix past the first chunk
    const coarse = { layers: opts.coarseLayers, alpha: COARSE_BITS_ALPHA };
    await rechooseTokens(tokens, opts.layers, layout.levels, g, image, models.preview, models.tail, paint, effortLevel(opts.effort), coarse);
  }
  // the stream order: (2.8) the coarse pass first, so K more layers of symbols
  const streamLayout = layoutForImage(learned.width, learned.height, { ...modelLayout, coarseLayers: opts.coarseLayers });
  const symbols = streamSymbols(streamLayout, tokens);
  // the prior runs once, forwards, and (with a cut) only as far as the kept layers need
  const model = new ModelledStream(createPrior(streamLayout, opts.prior === 'rcm' ? models.rcm : null, { sharedLate, lateContexts: sharedLate, coarseRcm }), symbols);
  const chunksOf = (streamLayers: number) => {
    const ranges = chunkRanges(chunkLayers(streamLayers, opts.layersPerChunk).map((n) => n * perLayer));
    model.extend(streamLayers * perLayer);
    const payloads = model.code(ranges, 'chained');
    return ranges.map((r, k) => ({ ...r, payload: payloads[k]! }));
  };
  const all = opts.layers + opts.coarseLayers;
  const final = await finalMade;
  if (!final || opts.maxOverhead === null) return writeMrt(header(ph), chunksOf(all), final);
  return writeMrt(header(ph), cutToBudget(all, perLayer, model, chunksOf, (chunks) => writeMrt(header(ph), chunks, final).length, final.bytes.length * (1 + opts.maxOverhead)), final);
}

type Chunks = { tokenStart: number; tokenEnd: number; payload: Uint8Array }[];

/** How far past the room the prior models the stream before the layers' costs are measured (bytes, and a fraction of the room). */
const MODEL_SLACK = { bytes: 64, fraction: 0.05 };

/**
 * The learned chunks of the most stream layers (at most `all`) that keep the whole file within
 * `maxBytes`. The prior models the stream layer by layer until its information content passes
 * the room (with MODEL_SLACK); coding those layers each as its own chunk says what each costs;
 * the pick is then coded for real and stepped back while the file is still over (the chunk
 * table and checksums of the real chunking differ a little from the estimate). The layers
 * past the pick are never modelled: most of a Kodak image's learned stream lies past the cut.
 */
function cutToBudget(
  all: number, perLayer: number, model: ModelledStream,
  chunksOf: (streamLayers: number) => Chunks, fileBytes: (chunks: Chunks) => number, maxBytes: number,
): Chunks {
  const room = maxBytes - fileBytes([]);
  const slack = room * MODEL_SLACK.fraction + MODEL_SLACK.bytes;
  let limit = room + slack;
  let [modelled, bits, n] = [0, 0, 0];
  let cost: number[];
  for (;;) {
    while (modelled < all && bits / 8 <= limit) bits += model.extend(++modelled * perLayer);
    cost = model.code(chunkRanges(new Array<number>(modelled).fill(perLayer)), 'chained').map((p) => p.length);
    n = 0;
    for (let used = 0; n < modelled && used + cost[n]! <= room; n++) used += cost[n]!;
    if (n < modelled || modelled === all) break;
    limit += slack; // every modelled layer fits: model further
  }
  for (;;) {
    const chunks = n > 0 ? chunksOf(n) : [];
    const over = fileBytes(chunks) - maxBytes;
    if (over <= 0 || n === 0) return chunks;
    // drop the last layers worth the excess (at least one)
    let drop = 0;
    for (let saved = 0; n - drop > 0 && saved < over; drop++) saved += cost[n - drop - 1]!;
    n -= Math.max(1, drop);
  }
}

/** The final layer: the whole image in `opts.final` at `opts.finalQuality`, or undefined for 'none'. */
async function encodeFinal(img: RgbImage, opts: ReturnType<typeof normaliseOptions>): Promise<{ mime: string; bytes: Uint8Array } | undefined> {
  if (opts.final === 'none') return undefined;
  const s = (await loadSharp())(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  const q = opts.finalQuality;
  const buf = opts.final === 'avif' ? await s.avif({ quality: q, effort: effortLevel(opts.effort).finalEffort }).toBuffer()
    : opts.final === 'webp' ? await s.webp({ quality: q }).toBuffer()
    : await s.jpeg({ quality: q, mozjpeg: true }).toBuffer();
  return { mime: FINAL_MIME[opts.final], bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
}

/**
 * The placeholder at `placeholderBytes`, or ('auto') the largest that keeps the first paint
 * (preamble + Header message; the Index comes after it) within FIRST_PAINT_BYTES. The first
 * paint besides the placeholder is the preamble, the image size, the window and the
 * placeholder's framing (21 B for a 768x512 image with an AVIF placeholder, 19 with WebP): start
 * from that guess and correct it once if the framing came out larger. Only the placeholder is made again, and
 * `firstPaintBytes` measures a candidate without the tokens.
 */
async function fitPlaceholder(
  padded: Uint8Array, g: Geometry, opts: ReturnType<typeof normaliseOptions>, firstPaintBytes: (ph: Placeholder) => number,
): Promise<Placeholder> {
  const make = (bytes: number) => makePlaceholder(padded, g.paddedW, g.paddedH, g.baseW, g.baseH, bytes, opts.placeholderFormat, effortLevel(opts.effort));
  if (opts.placeholderBytes !== 'auto') return make(opts.placeholderBytes);
  let target = FIRST_PAINT_BYTES - 21;
  let ph = await make(target);
  for (let pass = 0; pass < 2; pass++) {
    const end = firstPaintBytes(ph);
    if (end <= FIRST_PAINT_BYTES) break;
    const next = Math.max(MIN_AUTO_PLACEHOLDER, target - (end - FIRST_PAINT_BYTES));
    if (next === target) break;
    target = next;
    ph = await make(target);
  }
  return ph;
}
