// The edge app on Node: @hono/node-server on 127.0.0.1 with the filesystem store
// (src/edge/fs-store.ts), files in a temporary folder. The HTTP behaviour tests are the
// Workers project's own (test/edge/*.shared.ts), run here against real HTTP; then the
// store's own rules: Range reads that read only the range, keys that cannot leave the root
// (no '..', no symlink out), preconditions, atomic puts and uploads through the app.
import { serve, type ServerType } from '@hono/node-server';
import { mkdtemp, mkdir, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMrtApp } from '../../src/edge/app.ts';
import { FsStore } from '../../src/edge/fs-store.ts';
import { hasBody } from '../../src/edge/types.ts';
import { makeMrt, type Fixture } from '../edge/fixtures.ts';
import { bytesOf, same, type EdgeHarness } from '../edge/harness.ts';
import { httpTests } from '../edge/http.shared.ts';
import { selectTests } from '../edge/select.shared.ts';

const TOKEN = 'test-upload-token';
const work = await mkdtemp(join(tmpdir(), 'mrt-edge-fs-'));
const root = join(work, 'images');
const store = new FsStore(root);
const app = createMrtApp({ bucket: () => store, uploadToken: () => TOKEN, plainRead: () => true });
let server: ServerType;
let base = '';

beforeAll(async () => {
  await new Promise<void>((ok) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
      base = `http://127.0.0.1:${info.port}`;
      ok();
    });
  });
});

afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  await rm(work, { recursive: true, force: true });
});

const node: EdgeHarness = {
  fetchEdge: (path, init) => fetch(base + path, init),
  seed: async (key: string, fx: Fixture | Uint8Array) => store.put(key, fx instanceof Uint8Array ? fx : fx.bytes),
  cacheApi: false,
  contentEtags: false,
};

describe('HTTP behaviour on Node with the filesystem store', () => {
  httpTests(node);
  selectTests(node);
});

describe('FsStore', () => {
  const fx = makeMrt({ chunks: 4 });

  it('head/get/put/delete follow R2: ranges clamp, etags change with the file, a failed precondition gives the object without a body', async () => {
    const put = await store.put('unit/a.mrt', fx.bytes);
    expect(put!.size).toBe(fx.bytes.length);
    const head = await store.head('unit/a.mrt');
    expect(head).toMatchObject({ key: 'unit/a.mrt', size: fx.bytes.length, etag: put!.etag, httpEtag: `"${put!.etag}"` });
    const r = await store.get('unit/a.mrt', { range: { offset: 10, length: 1 << 20 } });
    expect(hasBody(r)).toBe(true);
    expect(r!.range).toEqual({ offset: 10, length: fx.bytes.length - 10 });
    expect(same(new Uint8Array(await (r as { arrayBuffer(): Promise<ArrayBuffer> }).arrayBuffer()), fx.bytes.subarray(10))).toBe(true);
    const suffix = await store.get('unit/a.mrt', { range: { suffix: 5 } });
    expect(same(await bytesOf(new Response((suffix as { body: ReadableStream }).body)), fx.bytes.subarray(-5))).toBe(true);
    const stale = await store.get('unit/a.mrt', { onlyIf: { etagMatches: 'other' } });
    expect(stale).not.toBeNull();
    expect(hasBody(stale)).toBe(false);
    const other = makeMrt({ chunks: 2 });
    const again = await store.put('unit/a.mrt', other.bytes);
    expect(again!.etag).not.toBe(put!.etag);
    expect(hasBody(await store.get('unit/a.mrt', { onlyIf: { etagMatches: put!.etag } }))).toBe(false);
    expect(await store.put('unit/a.mrt', fx.bytes, { onlyIf: { etagMatches: put!.etag } })).toBeNull();
    await store.delete('unit/a.mrt');
    expect(await store.head('unit/a.mrt')).toBeNull();
    expect(await store.get('unit/missing.mrt')).toBeNull();
    await store.delete('unit/missing.mrt'); // no error, as R2
    await expect(store.get('unit/empty.mrt')).resolves.toBeNull();
    await store.put('unit/empty.mrt', new Uint8Array(0));
    await expect(store.get('unit/empty.mrt', { range: { offset: 0, length: 10 } })).rejects.toThrow(RangeError);
  });

  it('a Range read of a large file reads only the range (a sparse 8 GiB file, the last 16 bytes)', async () => {
    const f = join(root, 'unit/huge.mrt');
    await mkdir(join(root, 'unit'), { recursive: true });
    const fh = await open(f, 'w');
    const size = 8 * 2 ** 30;
    await fh.truncate(size);
    await fh.write(new Uint8Array(16).fill(7), 0, 16, size - 16);
    await fh.close();
    const t0 = performance.now();
    const r = await store.get('unit/huge.mrt', { range: { offset: size - 16, length: 16 } });
    const bytes = new Uint8Array(await (r as { arrayBuffer(): Promise<ArrayBuffer> }).arrayBuffer());
    expect([...bytes]).toEqual(new Array(16).fill(7));
    // a larger range is a stream of 64 KiB reads, not one buffer of the range
    const big = await store.get('unit/huge.mrt', { range: { offset: 0, length: 3 << 20 } });
    const reader = (big as { body: ReadableStream<Uint8Array> }).body.getReader();
    const first = await reader.read();
    expect(first.value!.length).toBe(64 << 10);
    await reader.cancel();
    expect(performance.now() - t0).toBeLessThan(2000);
    await rm(f);
  });

  it("keys cannot leave the root: '..', absolute and backslash keys are refused, symlinks out of the root do not exist", async () => {
    await writeFile(join(work, 'secret.mrt'), fx.bytes);
    for (const key of ['../secret.mrt', 'a/../../secret.mrt', '/etc/passwd', 'a\\b.mrt', 'a//b.mrt', './a.mrt', '']) {
      await expect(store.get(key), key).rejects.toThrow(TypeError);
      await expect(store.put(key, fx.bytes), key).rejects.toThrow(TypeError);
    }
    await mkdir(join(root, 'links'), { recursive: true });
    await symlink(join(work, 'secret.mrt'), join(root, 'links/file.mrt'));
    await symlink(work, join(root, 'links/dir'));
    expect(await store.head('links/file.mrt')).toBeNull();
    expect(await store.get('links/dir/secret.mrt')).toBeNull();
    await expect(store.put('links/dir/planted.mrt', fx.bytes)).rejects.toThrow(/outside the root/);
    await store.delete('links/dir/secret.mrt');
    expect(await readFile(join(work, 'secret.mrt'))).toHaveLength(fx.bytes.length);
    // a symlink inside the root is followed
    await store.put('links/target.mrt', fx.bytes);
    await symlink(join(root, 'links/target.mrt'), join(root, 'links/inside.mrt'));
    expect((await store.head('links/inside.mrt'))?.size).toBe(fx.bytes.length);
    // and over HTTP: the app refuses '..' itself, and an escaping link is a 404
    expect((await fetch(`${base}/i/links/file.mrt`)).status).toBe(404);
    expect((await fetch(`${base}/i/links/inside.mrt?bytes=256`)).status).toBe(200);
  });

  it('uploads through the app land on disk whole and are served back', async () => {
    const up = await fetch(`${base}/i/up/new.mrt`, { method: 'PUT', body: fx.bytes as Uint8Array<ArrayBuffer>, headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(up.status).toBe(201);
    expect(same(new Uint8Array(await readFile(join(root, 'up/new.mrt'))), fx.bytes)).toBe(true);
    const got = await fetch(`${base}/i/up/new.mrt`);
    expect(same(await bytesOf(got), fx.bytes)).toBe(true);
    const bad = await fetch(`${base}/i/up/new.mrt`, { method: 'PUT', body: fx.bytes.subarray(0, 100) as Uint8Array<ArrayBuffer>, headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(bad.status).toBe(422);
    expect(same(new Uint8Array(await readFile(join(root, 'up/new.mrt'))), fx.bytes)).toBe(true);
    const del = await fetch(`${base}/i/up/new.mrt`, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(del.status).toBe(204);
    expect((await fetch(`${base}/i/up/new.mrt`)).status).toBe(404);
  });
});
