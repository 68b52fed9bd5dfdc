import { expect } from 'vitest';
import { env, exports } from 'cloudflare:workers';
import { makeMrt, type Fixture } from './fixtures.ts';

export const ORIGIN = 'http://edge.test';
export const TOKEN = 'test-upload-token';

export function fetchEdge(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(ORIGIN + path, init));
}

/** Put a fixture into local R2 under `key` (which ends in .mrt). */
export async function seed(key: string, fx: Fixture | Uint8Array = makeMrt()): Promise<Fixture | Uint8Array> {
  await env.IMAGES.put(key, fx instanceof Uint8Array ? fx : fx.bytes);
  return fx;
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
