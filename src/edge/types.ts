/**
 * Minimal structural types for the Workers APIs the edge uses, so that src/edge
 * type-checks with the project's DOM/Node lib set (no @cloudflare/workers-types clash)
 * and so that any R2-compatible bucket can be passed in.
 */

export interface R2RangeLike {
  offset?: number;
  length?: number;
  suffix?: number;
}

export interface R2ConditionalLike {
  etagMatches?: string;
  etagDoesNotMatch?: string;
}

export interface R2ObjectLike {
  key: string;
  size: number;
  etag: string;
  httpEtag: string;
  customMetadata?: Record<string, string>;
  range?: R2RangeLike;
}

export interface R2ObjectBodyLike extends R2ObjectLike {
  body: ReadableStream<Uint8Array>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface R2BucketLike {
  head(key: string): Promise<R2ObjectLike | null>;
  get(
    key: string,
    options?: { range?: R2RangeLike | Headers; onlyIf?: R2ConditionalLike | Headers },
  ): Promise<R2ObjectBodyLike | R2ObjectLike | null>;
  put(
    key: string,
    value: ArrayBuffer | ArrayBufferView | ReadableStream | string | null,
    options?: {
      httpMetadata?: { contentType?: string };
      customMetadata?: Record<string, string>;
      sha256?: ArrayBuffer | string;
      onlyIf?: R2ConditionalLike;
    },
  ): Promise<R2ObjectLike | null>;
  delete(keys: string | string[]): Promise<void>;
}

export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException?(): void;
}

export interface FetcherLike {
  fetch(input: Request | string, init?: RequestInit): Promise<Response>;
}

/** Bindings the default worker expects (see wrangler.toml). */
export interface MrtEnv {
  IMAGES: R2BucketLike;
  ASSETS?: FetcherLike;
  /** Worker secret: bearer token for PUT/DELETE; uploads are disabled when unset. */
  MRT_UPLOAD_TOKEN?: string;
  /** "1" enables `?plain` (raw R2 range read, for bench/edge-load.ts only). */
  MRT_PLAIN_READ?: string;
}

export function hasBody(o: R2ObjectLike | R2ObjectBodyLike | null): o is R2ObjectBodyLike {
  return o !== null && 'body' in o && (o as R2ObjectBodyLike).body != null;
}
