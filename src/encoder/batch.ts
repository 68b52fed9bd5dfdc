// Batch plumbing for the CLI: expanding inputs into (source, output) pairs with a mirrored
// layout, atomic writes, a bounded job pool and progress reporting.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative } from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.avif', '.tif', '.tiff', '.gif', '.heic', '.heif']);

export interface Job {
  input: string;
  output: string;
  /** Set when the job cannot run (missing input, output taken by another input). */
  error?: string;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(p);
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
      jobs.push({ input, output: '', error: 'no such file or folder' });
    } else if (s.isDirectory()) {
      // A folder always goes into a folder, mirrored.
      for (const f of await walk(input)) {
        const rel = relative(input, f);
        jobs.push({ input: f, output: join(out, rel.slice(0, rel.length - extname(rel).length) + ext) });
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
