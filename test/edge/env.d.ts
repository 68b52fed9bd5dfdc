// Minimal declarations of the Workers test modules, so that the root `tsc` (DOM + Node
// libs, no @cloudflare/workers-types) can type-check test/edge.
declare module 'cloudflare:workers' {
  import type { R2BucketLike } from '../../src/edge/types.ts';
  export const env: { IMAGES: R2BucketLike; MRT_UPLOAD_TOKEN?: string; MRT_PLAIN_READ?: string };
  export const exports: { default: { fetch(input: Request | string, init?: RequestInit): Promise<Response> } };
}
