// What the shared edge tests (*.shared.ts) run against: the Worker in workerd with local R2
// (helpers.ts, the `edge` project) or the app on @hono/node-server with the filesystem store
// (test/node/edge-fs.test.ts). No Workers module is imported here.
import { expect } from 'vitest';
import type { Fixture } from './fixtures.ts';

export interface EdgeHarness {
  /** A request to the edge: `path` starts with '/'. */
  fetchEdge(path: string, init?: RequestInit): Promise<Response>;
  /** Stores a fixture (or raw bytes) under `key` (which ends in .mrt). */
  seed(key: string, fx: Fixture | Uint8Array): Promise<unknown>;
  /** The Cache API is there (Workers): repeated representations come from it (X-MRT-Cache: hit). */
  cacheApi: boolean;
  /** ETags name the bytes (R2's md5): the same bytes under two keys have one ETag. */
  contentEtags: boolean;
}

export async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

export async function errorBody(res: Response): Promise<{ error: string; detail: string }> {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const j = (await res.json()) as { error: string; detail: string };
  expect(typeof j.error).toBe('string');
  expect(typeof j.detail).toBe('string');
  return j;
}

export function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
