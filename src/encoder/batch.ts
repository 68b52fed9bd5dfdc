// Batch plumbing for the CLI: expanding inputs into (source, output) pairs with a mirrored
// layout, atomic writes, a bounded job pool and progress reporting.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readlink, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.avif', '.tif', '.tiff', '.gif', '.heic', '.heif']);

export interface Job {
  input: string;
  output: string;
  /** Set when the job cannot run (missing input, output taken by another input). */
  error?: string;
}

/** A file found under an input folder, or why one could not be read. */
interface Found {
  path: string;
  error?: string;
}

/** Why a symbolic link at `path` leads nowhere (its target, for the message). */
async function brokenLink(path: string): Promise<string> {
  const target = await readlink(path).catch(() => '?');
  return `broken symbolic link (to ${target})`;
}

/**
 * Image files under `dir`, sorted, recursively. Symbolic links are followed, to files and to
 * folders (a link back to a folder being walked is reported, not followed); a broken one with
 * an image name is reported.
 */
async function walk(dir: string, ancestors: ReadonlySet<string> = new Set()): Promise<Found[]> {
  const real = await realpath(dir);
  if (ancestors.has(real)) return [{ path: dir, error: 'symbolic link loop: the folder contains itself' }];
  const inside = new Set(ancestors).add(real);
  const out: Found[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    const image = IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase());
    let s: Pick<Stats, 'isDirectory' | 'isFile'> = e;
    if (e.isSymbolicLink()) {
      const target = await stat(p).catch(() => null);
      if (!target) {
        if (image) out.push({ path: p, error: await brokenLink(p) });
        continue;
      }
      s = target;
    }
    if (s.isDirectory()) out.push(...(await walk(p, inside)));
    else if (s.isFile() && image) out.push({ path: p });
  }
  return out;
}

/**
 * Maps inputs to outputs. One file and an OUT not ending in '/' that is not an existing
 * directory: OUT is the file. Otherwise OUT is a directory; files go in it by name and
 * folders are mirrored beneath it.
 */
export async function planJobs(inputs: string[], out: string, ext = '.mrt'): Promise<Job[]> {
  const outIsDir = inputs.length > 1 || out.endsWith('/') || (await stat(out).then((s) => s.isDirectory(), () => false));
  const jobs: Job[] = [];
  for (const input of inputs) {
    const s = await stat(input).catch(() => null);
    if (!s) {
      const link = await lstat(input).then((l) => l.isSymbolicLink(), () => false);
      jobs.push({ input, output: '', error: link ? await brokenLink(input) : 'no such file or folder' });
    } else if (s.isDirectory()) {
      // A folder always goes into a folder, mirrored.
      for (const f of await walk(input)) {
        const rel = relative(input, f.path);
        jobs.push({ input: f.path, output: join(out, rel.slice(0, rel.length - extname(rel).length) + ext), ...(f.error ? { error: f.error } : {}) });
      }
    } else if (outIsDir) {
      const name = basename(input);
      jobs.push({ input, output: join(out, name.slice(0, name.length - extname(name).length) + ext) });
    } else {
      jobs.push({ input, output: out });
    }
  }
  // Two inputs mapping to one output (a.png and a.jpg) would overwrite each other.
  const owner = new Map<string, string>();
  for (const j of jobs) {
    if (j.error) continue;
    const first = owner.get(j.output);
    if (first) j.error = `would write ${j.output}, which ${first} already writes; rename one of them`;
    else owner.set(j.output, j.input);
  }
  return jobs;
}

/** What `path` is when it exists and is not a regular file (a FIFO would block the reader, a device would be replaced), else null. */
export async function notRegular(path: string): Promise<string | null> {
  const s = await stat(path).catch(() => null);
  if (!s || s.isFile()) return null;
  return s.isDirectory() ? 'a folder' : s.isFIFO() ? 'a FIFO' : s.isSocket() ? 'a socket' : s.isCharacterDevice() || s.isBlockDevice() ? 'a device' : 'not a regular file';
}

const WRITE_ERRORS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (read-only or immutable)',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a part of the path is a file, not a folder',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};

/**
 * Creates `dir` (and its parents) and writes and removes a probe file in it: the one honest
 * test that outputs can be written there (permission bits say nothing to root, a read-only
 * mount or an immutable folder says it only on a write). Null when writable, else why not.
 */
export async function folderProblem(dir: string): Promise<string | null> {
  try {
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `.mrt-write-check.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(probe, '');
    await unlink(probe);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    return WRITE_ERRORS[code] ? `${WRITE_ERRORS[code]} (${code})` : (e as Error).message;
  }
}

/** Why `path` cannot be written as an output, or null: checked before anything is encoded or decoded. */
export async function outputProblem(path: string, folders = new Map<string, Promise<string | null>>()): Promise<string | null> {
  const kind = await notRegular(path);
  if (kind) return `output ${path} exists and is ${kind}, not a regular file`;
  const dir = dirname(path) || '.';
  if (!folders.has(dir)) folders.set(dir, folderProblem(dir));
  const p = await folders.get(dir)!;
  return p ? `cannot write to output folder ${dir}: ${p}` : null;
}

/** Marks the jobs whose output cannot be written (each folder probed once), before any encoding. */
export async function checkOutputs(jobs: Job[]): Promise<void> {
  const folders = new Map<string, Promise<string | null>>();
  for (const j of jobs) {
    if (j.error) continue;
    const p = await outputProblem(j.output, folders);
    if (p) j.error = p;
  }
}

/** Writes through a temporary file in the same folder and renames it: never a half file. */
export async function writeAtomic(path: string, data: Uint8Array): Promise<void> {
  await mkdir(dirname(path) || '.', { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/** Runs `work` over `items` with at most `jobs` in flight, in input order of start. */
export async function pool<T>(items: T[], jobs: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  });
  await Promise.all(runners);
}

function formatSeconds(s: number): string {
  if (!isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  const r = Math.round(s % 60);
  return `${m}:${String(r).padStart(2, '0')}`;
}

/** A progress bar with ETA on a TTY; plain lines otherwise. */
export class Progress {
  private done = 0;
  private readonly start = Date.now();
  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY),
  ) {}

  step(label: string, status: string): void {
    this.done++;
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = (elapsed / this.done) * (this.total - this.done);
    if (this.tty) {
      const width = 28;
      const filled = Math.round((this.done / this.total) * width);
      const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
      const line = `[${bar}] ${this.done}/${this.total} ETA ${formatSeconds(eta)} ${status} ${label}`;
      const cols = this.stream.columns || 100;
      this.stream.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
      if (this.done === this.total) this.stream.write('\n');
    } else {
      this.stream.write(`[${this.done}/${this.total}] ${status} ${label}\n`);
    }
  }

  /** Prints a line above the bar (errors), keeping the bar intact. */
  log(line: string): void {
    if (this.tty) this.stream.write(`\r\x1b[K${line}\n`);
    else this.stream.write(`${line}\n`);
  }
}
