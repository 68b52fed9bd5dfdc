// The `mrt` command line: encode, decode, info.
import { open, readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { describe, formatInfo, isChunkRule, placeholderBackground, readFirstPaint, readHeader } from '../format/index.ts';
import { checkOutputs, outputProblem, planJobs, pool, Progress, writeAtomic } from './batch.ts';
import { decode, modelsFor } from './decode.ts';
import { shippedModelIds } from './model-dirs.ts';
import { contentHash, DEFAULT_COARSE_LAYERS, encodeRgb, normaliseOptions, type EncodeOptions, type FinalFormat } from './encode.ts';
import { encodePng, readImage } from './image-io.ts';
import { loadModels } from './models.ts';
import { EncodeWorkers } from './workers.ts';
import { DEFAULT_EFFORT } from './effort.ts';
import { loadSharp } from './peers.ts';

const USAGE = `mrt — progressive learned image codec

Usage:
  mrt encode IN... -o OUT [options]   encode images (files or folders, recursively) to .mrt
  mrt decode IN.mrt -o OUT.png [--bytes N] [--regenerate | --no-regenerate] [--no-deblock] [--models DIR]
                                      what a client that received the first N bytes paints;
                                      --regenerate fills missing tokens from the prior (default off);
                                      --no-deblock keeps the token windows' seams (default: smoothed);
                                      the model the file names: the shipped default, an earlier
                                      shipped one (models/<hash>/) or --models DIR
  mrt info IN.mrt [--json]            header and chunk table (--json: also placeholder.background,
                                      the placeholder as the element's CSS background for a
                                      server-rendered page)
  mrt --version                       the package version

encode options:
  -o, --out PATH            output file (one input) or folder (mirrors input folders)
  --layers N                token layers to keep per window (default: all)
  --layers-per-chunk N|doubling64|doubling|auto
                            layers per chunk (default doubling64: 64 stream layers,
                            then 64, 128, 256, ...: 5 chunks for 640; doubling: layer
                            0, then 1, 2, 4, ...; auto: 1 for the first 16 layers,
                            then 1/8 of the layers so far)
  --placeholder-bytes N     byte target of the native placeholder (default: as
                            large as keeps the whole header within 256 bytes)
  --placeholder-format auto|avif|webp
                            placeholder image format (default auto: AVIF or WebP, the
                            closer one; webp for browsers that cannot decode AVIF)
  --prior rcm|static        entropy-coding prior (default rcm when the model has one)
  --no-tail-rdo             keep the encoder network's late tokens as they are (default:
                            re-choose layers 32 and up closed-loop, rate-distortion
                            optimised; models with a split decoder)
  --coarse-layers N         send the first N layers' tokens as coarse trits first, then
                            their exact values (container 2.8; 0: layer-major order;
                            default: the layers the model's coarse RCM covers, else
                            ${DEFAULT_COARSE_LAYERS} for 9-level models)
  --effort N                encoder effort 1..9 (default ${DEFAULT_EFFORT}): higher spends more time
                            for slightly better prefixes; 9 runs the full closed loop,
                            ${DEFAULT_EFFORT} is within 0.05 dB of it at every budget (see README)
  --final avif|webp|jpeg|none   the full-quality image at the end of the file (default
                            avif; none: the learned layer is the whole image, at most
                            1024x1024 once padded to the 32 px grid)
  -q, --quality Q           quality of the final layer, 0-100 (default: sharp's, 50
                            for AVIF; --final-quality is the same option)
  --max-overhead PCT        the learned chunks stop where the file would be more than
                            PCT % larger than the plain final image (default 10;
                            'none': keep every layer). Photos past 1024x1024 get a
                            downscaled learned layer and the final at full size
  --background COLOR        flatten alpha on COLOR (default #ffffff)
  --reject-alpha            refuse images with an alpha channel instead
  -j, --jobs N              images encoded at once, each on its own thread (default 1)
  -f, --force               re-encode outputs that are up to date
  --models DIR              models folder (default: the shipped models/)
`;

function intOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer, got '${v}'`);
  return Number(v);
}

class UsageError extends Error {}

/** --max-overhead PCT (a percentage) as a fraction; 'none' is null (no cut). */
function overheadOption(v: string | undefined): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === 'none') return null;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`--max-overhead must be a percentage (e.g. 10) or 'none', got '${v}'`);
  return Number(v) / 100;
}

/** Reads the content hash of an existing .mrt, or null if it is missing, unreadable or not a regular file. */
async function existingContentHash(path: string): Promise<Uint8Array | null> {
  // never open a FIFO or a device: the open would block, or read forever
  if (!(await stat(path).then((s) => s.isFile(), () => false))) return null;
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return null;
  try {
    const buf = new Uint8Array(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return readHeader(buf.subarray(0, bytesRead)).header.contentHash ?? null;
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  return !!a && a.length === b.length && a.every((v, i) => v === b[i]);
}

async function cmdEncode(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      layers: { type: 'string' },
      'layers-per-chunk': { type: 'string' },
      'placeholder-bytes': { type: 'string' },
      'placeholder-format': { type: 'string' },
      prior: { type: 'string' },
      'no-tail-rdo': { type: 'boolean' },
      'coarse-layers': { type: 'string' },
      effort: { type: 'string' },
      final: { type: 'string' },
      'final-quality': { type: 'string' },
      quality: { type: 'string', short: 'q' },
      'max-overhead': { type: 'string' },
      background: { type: 'string' },
      'reject-alpha': { type: 'boolean' },
      jobs: { type: 'string', short: 'j' },
      force: { type: 'boolean', short: 'f' },
      models: { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new UsageError('encode needs at least one input');
  if (!values.out) throw new UsageError('encode needs -o OUT');
  if (values.prior && values.prior !== 'rcm' && values.prior !== 'static') throw new UsageError(`--prior must be rcm or static`);
  if (values['reject-alpha'] && values.background) throw new UsageError('--reject-alpha and --background exclude each other');
  if (values.quality !== undefined && values['final-quality'] !== undefined) throw new UsageError('--quality and --final-quality are the same option: give one');
  const jobs = intOption('jobs', values.jobs) ?? 1;
  if (jobs < 1) throw new UsageError('--jobs must be at least 1');

  await loadSharp(); // a missing peer stops the command once, not once per image
  const models = await loadModels(values.models);
  const options: EncodeOptions = {
    models,
    layers: intOption('layers', values.layers),
    layersPerChunk: isChunkRule(values['layers-per-chunk']) ? values['layers-per-chunk'] : intOption('layers-per-chunk', values['layers-per-chunk']),
    placeholderBytes: intOption('placeholder-bytes', values['placeholder-bytes']),
    placeholderFormat: values['placeholder-format'] as EncodeOptions['placeholderFormat'],
    prior: values.prior as 'rcm' | 'static' | undefined,
    tailRdo: values['no-tail-rdo'] ? false : undefined,
    coarseLayers: intOption('coarse-layers', values['coarse-layers']),
    effort: intOption('effort', values.effort),
    final: values.final as FinalFormat | undefined,
    finalQuality: intOption(values.quality !== undefined ? 'quality' : 'final-quality', values.quality ?? values['final-quality']),
    maxOverhead: overheadOption(values['max-overhead']),
    alpha: values['reject-alpha'] ? 'reject' : { background: values.background ?? '#ffffff' },
  };
  let opts: ReturnType<typeof normaliseOptions>;
  try {
    opts = normaliseOptions(models, options);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }

  const plan = await planJobs(positionals, values.out);
  if (plan.length === 0) throw new UsageError('no images found in the inputs');
  // outputs that cannot be written fail at once, not after their image was encoded
  await checkOutputs(plan);
  const progress = new Progress(plan.length);
  const failures: string[] = [];
  let written = 0;
  let skipped = 0;
  // several images at once: each on its own thread (onnxruntime and the closed loop run on the calling one)
  const workers = jobs > 1 ? new EncodeWorkers(Math.min(jobs, plan.length), values.models) : null;
  await pool(plan, jobs, async (job) => {
    try {
      if (job.error) throw new Error(job.error);
      const source = new Uint8Array(await readFile(job.input));
      const hash = contentHash(source, opts, models);
      if (!values.force && sameBytes(await existingContentHash(job.output), hash)) {
        skipped++;
        progress.step(job.input, 'up to date');
        return;
      }
      const mrt = workers ? await workers.encode(source, opts, hash) : await encodeRgb(await readImage(source, opts.alpha), models, opts, hash);
      await writeAtomic(job.output, mrt);
      written++;
      progress.step(`${job.input} → ${job.output} (${mrt.length} B)`, 'encoded');
    } catch (e) {
      failures.push(`${job.input}: ${(e as Error).message}`);
      progress.log(`error: ${job.input}: ${(e as Error).message}`);
      progress.step(job.input, 'FAILED');
    }
  }).finally(() => workers?.close());
  process.stderr.write(`${written} encoded, ${skipped} up to date, ${failures.length} failed\n`);
  if (failures.length) {
    process.stderr.write(`failed:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

async function cmdDecode(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      bytes: { type: 'string' },
      regenerate: { type: 'boolean' },
      'no-regenerate': { type: 'boolean' },
      'no-deblock': { type: 'boolean' },
      models: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('decode takes exactly one .mrt input');
  if (!values.out) throw new UsageError('decode needs -o OUT.png');
  if (values.regenerate && values['no-regenerate']) throw new UsageError('--regenerate and --no-regenerate exclude each other');
  const bytes = intOption('bytes', values.bytes);
  const unwritable = await outputProblem(values.out);
  if (unwritable) throw new Error(unwritable);
  const mrt = new Uint8Array(await readFile(positionals[0]));
  await loadSharp(); // a missing peer stops the command once, not once per image
  // the model the file names: --models DIR, the shipped default or an earlier shipped model
  const given = values.models ? await loadModels(values.models) : undefined;
  const models = await modelsFor(mrt.subarray(0, bytes ?? mrt.length), { given });
  const result = await decode(mrt, { models, bytes, regenerate: values['no-regenerate'] ? false : values.regenerate, deblock: values['no-deblock'] ? false : undefined });
  await writeAtomic(values.out, await encodePng(result.image));
  process.stderr.write(`${positionals[0]}: ${result.bytesUsed} of ${mrt.length} B, ${result.chunks} chunks, ${result.tokens} tokens${result.verified !== undefined && result.verified < result.tokens ? ` (${result.tokens - result.verified} from a partly received chunk)` : ''}${result.error ? `; stream error: ${result.error}` : ''} → ${values.out}\n`);
  return 0;
}

async function cmdInfo(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('info takes exactly one .mrt input');
  const bytes = new Uint8Array(await readFile(positionals[0]));
  const info = readHeader(bytes);
  // files name their model by hash only (2.6): info names it when it is a shipped one
  const idFor = await shippedModelIds();
  if (values.json) {
    const d = describe(info, idFor);
    // the page's inline placeholder, for its largest image (src/format/parts.ts)
    const background = placeholderBackground(readFirstPaint(bytes));
    const placeholder = d.placeholder && background ? { ...d.placeholder, background } : d.placeholder;
    process.stdout.write(`${JSON.stringify({ ...d, placeholder, fileBytes: bytes.length }, null, 2)}\n`);
  } else process.stdout.write(formatInfo(info, bytes.length, idFor));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'encode': return await cmdEncode(rest);
      case 'decode': return await cmdDecode(rest);
      case 'info': return await cmdInfo(rest);
      case undefined: case 'help': case '-h': case '--help':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith?.('ERR_PARSE_ARGS')) {
      process.stderr.write(`mrt: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`mrt: ${(e as Error).message}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
