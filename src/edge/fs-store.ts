/**
 * A filesystem store for the edge app on Node (`@hono/node-server` or any Node HTTP host):
 * the R2BucketLike interface (src/edge/types.ts, documented in src/edge/README.md, Storage)
 * over a folder of files, key = path below the folder.
 *
 *   import { serve } from '@hono/node-server';
 *   import { createMrtApp } from 'mrt-img/edge';
 *   import { FsStore } from 'mrt-img/edge/fs';
 *   const images = new FsStore('./images');
 *   serve({ fetch: createMrtApp({ bucket: () => images }).fetch, hostname: '127.0.0.1', port: 8787 });
 *
 * Node only (node:fs): a Workers bundle imports `mrt-img/edge`, never this module.
 *
 * - Range reads read that range only (positioned reads on one file handle; bodies of more
 *   than 1 MiB are streamed in 64 KiB reads, the handle closed at the end or on cancel).
 * - ETag: a strong validator of the file version, from its inode, size and modification time
 *   (the file is not read for it); `onlyIf: { etagMatches }` is checked on the handle the
 *   bytes are then read from, so bytes and ETag belong to the same file.
 * - Keys are relative paths: no '' / '.' / '..' segments, backslashes, NUL or absolute paths
 *   (anything else is refused with a TypeError); a key whose resolved path (symlinks
 *   followed) leaves the root does not exist (get/head: null; put: refused).
 * - put writes a temporary file beside the target and renames it over (readers see the old
 *   or the new file, never a part); customMetadata and httpMetadata are not stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, type BigIntStats } from 'node:fs';
import { mkdir, open, realpath, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { R2BucketLike, R2ConditionalLike, R2ObjectBodyLike, R2ObjectLike, R2RangeLike } from './types.ts';

/** Bodies up to this many bytes are read at once and the file closed before get() returns. */
const EAGER_BYTES = 1 << 20;
const STREAM_CHUNK = 64 << 10;

export interface FsStoreOptions {
  /** Create the root folder when missing (default true). */
  create?: boolean;
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('FsStore: empty key');
  if (key.includes('\0') || key.includes('\\')) throw new TypeError(`FsStore: NUL or backslash in key ${JSON.stringify(key)}`);
  if (isAbsolute(key) || key.startsWith('/')) throw new TypeError(`FsStore: absolute key ${JSON.stringify(key)}`);
  for (const s of key.split('/')) {
    if (s === '' || s === '.' || s === '..') throw new TypeError(`FsStore: '', '.' or '..' segment in key ${JSON.stringify(key)}`);
  }
}

/** The strong validator of one file version: device, inode, size, mtime and ctime in ns (hashed to 32 hex digits, R2's etag shape). */
function etagOf(st: BigIntStats): string {
  return createHash('sha256').update(`${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`).digest('hex').slice(0, 32);
}

function preconditionFails(etag: string, onlyIf: R2ConditionalLike | Headers | undefined): boolean {
  if (!onlyIf) return false;
  const strip = (s: string | null | undefined) => (s ?? '').trim().replace(/^W\//, '').replace(/^"|"$/g, '');
  let match: string | undefined;
  let noneMatch: string | undefined;
  if (onlyIf instanceof Headers) {
    match = onlyIf.get('if-match') ?? undefined;
    noneMatch = onlyIf.get('if-none-match') ?? undefined;
  } else {
    match = onlyIf.etagMatches;
    noneMatch = onlyIf.etagDoesNotMatch;
  }
  const list = (s: string) => s.split(',').map(strip);
  if (match !== undefined && !list(match).some((e) => e === '*' || e === etag)) return true;
  if (noneMatch !== undefined && list(noneMatch).some((e) => e === '*' || e === etag)) return true;
  return false;
}

/** An R2 range (or a request's Range header) against `size` → [offset, length], or null for the whole object. */
function rangeOf(range: R2RangeLike | Headers | undefined, size: number): { offset: number; length: number } | null {
  let r: R2RangeLike | undefined;
  if (range instanceof Headers) {
    const h = range.get('range');
    if (!h) return null;
    const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
    if (!m || (m[1] === '' && m[2] === '')) throw new RangeError(`FsStore: unsupported Range ${h}`);
    if (m[1] === '') r = { suffix: Number(m[2]) };
    else r = { offset: Number(m[1]), ...(m[2] !== '' ? { length: Number(m[2]) - Number(m[1]) + 1 } : {}) };
  } else {
    r = range;
  }
  if (!r) return null;
  if (size === 0) throw new RangeError('FsStore: a range of an empty object'); // as R2
  if (r.suffix !== undefined) {
    const n = Math.min(size, Math.max(0, r.suffix));
    return { offset: size - n, length: n };
  }
  const offset = r.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= size) throw new RangeError(`FsStore: range offset ${offset} outside 0..${size - 1}`);
  const length = Math.min(size - offset, r.length ?? size - offset);
  if (!Number.isSafeInteger(length) || length <= 0) throw new RangeError(`FsStore: range length ${r.length}`);
  return { offset, length };
}

async function readAll(fh: FileHandle, offset: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
    if (bytesRead === 0) break; // the file shrank under us: return what is there
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** A body that reads [offset, offset + length) of an open file in chunks and closes it. */
function streamOf(fh: FileHandle, offset: number, length: number): ReadableStream<Uint8Array> {
  let pos = offset;
  const end = offset + length;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await fh.close().catch(() => undefined);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const n = Math.min(STREAM_CHUNK, end - pos);
        const chunk = n > 0 ? await readAll(fh, pos, n) : new Uint8Array(0);
        pos += chunk.length;
        if (chunk.length) controller.enqueue(chunk);
        if (chunk.length < n || pos >= end) {
          await close();
          controller.close();
        }
      } catch (e) {
        await close();
        controller.error(e);
      }
    },
    cancel: close,
  });
}

export class FsStore implements R2BucketLike {
  /** The root folder as given, resolved to an absolute path. */
  readonly root: string;
  private realRoot: Promise<string>;

  constructor(root: string, opts: FsStoreOptions = {}) {
    const abs = resolve(root);
    this.root = abs;
    this.realRoot = (async () => {
      if (opts.create !== false) await mkdir(abs, { recursive: true });
      return realpath(abs);
    })();
    this.realRoot.catch(() => undefined); // reported by the first call
  }

  /** The file of `key` with symlinks resolved, or null when it does not exist or resolves outside the root. */
  private async file(key: string): Promise<string | null> {
    checkKey(key);
    const root = await this.realRoot;
    let real: string;
    try {
      real = await realpath(join(root, key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw e;
    }
    return real.startsWith(root + sep) ? real : null;
  }

  /** Opens the file of `key` (a regular file inside the root) and stats the handle, or null. */
  private async openKey(key: string): Promise<{ fh: FileHandle; st: BigIntStats } | null> {
    const f = await this.file(key);
    if (!f) return null;
    let fh: FileHandle;
    try {
      // O_NOFOLLOW: the resolved path's last part must not have become a symlink since
      fh = await open(f, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return null;
      throw e;
    }
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) {
        await fh.close();
        return null;
      }
      return { fh, st };
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  private meta(key: string, st: BigIntStats): R2ObjectLike {
    const etag = etagOf(st);
    return { key, size: Number(st.size), etag, httpEtag: `"${etag}"` };
  }

  async head(key: string): Promise<R2ObjectLike | null> {
    const o = await this.openKey(key);
    if (!o) return null;
    await o.fh.close();
    return this.meta(key, o.st);
  }

  async get(key: string, options: { range?: R2RangeLike | Headers; onlyIf?: R2ConditionalLike | Headers } = {}): Promise<R2ObjectBodyLike | R2ObjectLike | null> {
    const o = await this.openKey(key);
    if (!o) return null;
    const { fh, st } = o;
    let handed = false;
    try {
      const meta = this.meta(key, st);
      if (preconditionFails(meta.etag, options.onlyIf)) return meta; // R2: the object without a body
      const r = rangeOf(options.range, meta.size);
      const offset = r?.offset ?? 0;
      const length = r?.length ?? meta.size;
      const range = r ? { offset, length } : undefined;
      if (length <= EAGER_BYTES) {
        const bytes = await readAll(fh, offset, length);
        return {
          ...meta,
          ...(range ? { range } : {}),
          get body() {
            return new ReadableStream<Uint8Array>({
              start(c) {
                if (bytes.length) c.enqueue(bytes);
                c.close();
              },
            });
          },
          arrayBuffer: async () => bytes.slice().buffer,
        };
      }
      handed = true;
      const body = streamOf(fh, offset, length);
      return {
        ...meta,
        ...(range ? { range } : {}),
        body,
        arrayBuffer: () => new Response(body).arrayBuffer(),
      };
    } finally {
      if (!handed) await fh.close().catch(() => undefined);
    }
  }

  async put(
    key: string,
    value: ArrayBuffer | ArrayBufferView | ReadableStream | string | null,
    options: { onlyIf?: R2ConditionalLike } = {},
  ): Promise<R2ObjectLike | null> {
    checkKey(key);
    const root = await this.realRoot;
    const target = join(root, key);
    await mkdir(dirname(target), { recursive: true });
    // the folder (symlinks resolved) must still be inside the root
    const dir = await realpath(dirname(target));
    if (dir !== root && !dir.startsWith(root + sep)) throw new TypeError(`FsStore: key ${JSON.stringify(key)} resolves outside the root`);
    const file = join(dir, key.slice(key.lastIndexOf('/') + 1));
    if (options.onlyIf) {
      const cur = await this.head(key);
      if (preconditionFails(cur?.etag ?? '', options.onlyIf)) return null; // R2: null when the condition fails
    }
    let bytes: Uint8Array;
    if (value === null) bytes = new Uint8Array(0);
    else if (typeof value === 'string') bytes = new TextEncoder().encode(value);
    else if (value instanceof ArrayBuffer) bytes = new Uint8Array(value);
    else if (ArrayBuffer.isView(value)) bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    else bytes = new Uint8Array(await new Response(value).arrayBuffer());
    const tmp = join(dir, `.${key.slice(key.lastIndexOf('/') + 1)}.${randomBytes(6).toString('hex')}.tmp`);
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return this.meta(key, await stat(file, { bigint: true }));
  }

  async delete(keys: string | string[]): Promise<void> {
    for (const key of Array.isArray(keys) ? keys : [keys]) {
      checkKey(key);
      const root = await this.realRoot;
      // the link itself, not its target: only names inside the root are removed
      const dir = await realpath(dirname(join(root, key))).catch(() => null);
      if (!dir || (dir !== root && !dir.startsWith(root + sep))) continue;
      await unlink(join(dir, key.slice(key.lastIndexOf('/') + 1))).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
  }
}
