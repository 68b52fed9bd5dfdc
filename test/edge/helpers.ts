import { env, exports } from 'cloudflare:workers';
import { makeMrt, type Fixture } from './fixtures.ts';
import type { EdgeHarness } from './harness.ts';

export { bytesOf, errorBody, same } from './harness.ts';

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

/** The shared tests' harness in workerd: the deployable Worker, local R2 and the Cache API. */
export const workers: EdgeHarness = { fetchEdge, seed, cacheApi: true, contentEtags: true };
