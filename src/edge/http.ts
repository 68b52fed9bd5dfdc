/** HTTP helpers for the edge: keys, Range, ETags, JSON errors, CORS. Pure functions. */
import { PART_HEADERS } from '../format/parts.ts';

export const MRT_CONTENT_TYPE = 'application/vnd.mrt';
export const MAX_KEY_BYTES = 1024;

export type Problem = { status: number; error: string; detail: string; headers?: Record<string, string> };

export function problem(status: number, error: string, detail: string, headers?: Record<string, string>): Problem {
  return { status, error, detail, headers };
}

/** CORS: public, credential-less reads from any origin (so no `Vary: Origin`). */
export const CORS_EXPOSE = [
  'Content-Length', 'Content-Range', 'Accept-Ranges', 'ETag', 'Content-Location',
  'X-MRT-Total-Length', 'X-MRT-Bytes', 'X-MRT-Chunks', 'X-MRT-Total-Chunks', 'X-MRT-Final', 'X-MRT-Selection',
  'X-MRT-Budget', ...Object.values(PART_HEADERS),
].join(', ');
export const CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': CORS_EXPOSE,
  'Timing-Allow-Origin': '*',
});
export const CORS_PREFLIGHT: Readonly<Record<string, string>> = Object.freeze({
  ...CORS_HEADERS,
  'Access-Control-Allow-Methods': 'GET, HEAD, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers':
    'Range, If-None-Match, If-Range, If-Match, Authorization, Content-Type, Save-Data, ECT, Downlink, RTT, DPR, Width, Viewport-Width',
  'Access-Control-Max-Age': '86400',
});

/**
 * On every response that carries a stored object's bytes: a browser must never sniff them
 * as HTML or script, nor run them as a document if navigated to.
 */
export const STORED_OBJECT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': 'sandbox',
});

export function jsonProblem(p: Problem, extra?: Record<string, string>): Response {
  const headers = new Headers({
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...CORS_HEADERS,
    ...(p.headers ?? {}),
    ...(extra ?? {}),
  });
  return new Response(JSON.stringify({ error: p.error, detail: p.detail }), { status: p.status, headers });
}

/**
 * Validate the key part of `/i/<key>` taken from the RAW (still percent-encoded) path.
 * Returns the decoded object key (which ends in `.mrt`) or a Problem.
 * Rules: valid percent-encoding; no encoded `/` or `\` (%2F, %5C); no `\`; no control
 * characters (U+0000–U+001F, U+007F); no empty, `.` or `..` segments; at most
 * MAX_KEY_BYTES bytes of UTF-8; must end in `.mrt` with a non-empty name.
 */
export function parseKey(raw: string): { key: string } | Problem {
  if (raw.length > MAX_KEY_BYTES * 3) return problem(400, 'bad-key', `key longer than ${MAX_KEY_BYTES} bytes`);
  if (/%(2f|5c)/i.test(raw)) return problem(400, 'bad-key', 'encoded slash or backslash in key');
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    return problem(400, 'bad-key', 'invalid percent-encoding in key');
  }
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) {
    return problem(400, 'bad-key', `key longer than ${MAX_KEY_BYTES} bytes`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return problem(400, 'bad-key', 'control character in key');
  if (key.includes('\\')) return problem(400, 'bad-key', 'backslash in key');
  const segs = key.split('/');
  for (const s of segs) {
    if (s === '' ) return problem(400, 'bad-key', 'empty path segment in key');
    if (s === '.' || s === '..') return problem(400, 'bad-key', "'.' or '..' segment in key");
  }
  if (!key.endsWith('.mrt') || key.length <= 4 || key.endsWith('/.mrt')) {
    return problem(404, 'not-found', 'only /i/<key>.mrt is served');
  }
  return { key };
}

/**
 * Content-addressed keys get `Cache-Control: public, max-age=31536000, immutable`.
 * Rule: the file name (last segment without `.mrt`) is either 16+ hex digits, or ends in
 * `.<hash>` with 8+ hex digits (the `[name].[contenthash]` convention), e.g.
 * `photos/kodim01.3f2a9c1d.mrt`. Everything else is mutable: short max-age + ETag
 * revalidation.
 */
export function isContentAddressed(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1).replace(/\.mrt$/, '');
  return /^[0-9a-f]{16,}$/i.test(name) || /\.[0-9a-f]{8,}$/i.test(name);
}

export type ByteRange = { start: number; end: number }; // inclusive end

/**
 * Parse a `Range` header against a representation of `length` bytes.
 * - null header, or a unit other than `bytes` → `null` (ignored, RFC 9110 §14.2)
 * - one range `bytes=a-b`, `bytes=a-`, `bytes=-n` → the satisfiable range (b clamped to
 *   length-1, however many digits it has: an end past the object is its end)
 * - several ranges, at least one satisfiable → `null`: the whole representation (200).
 *   RFC 9110 lets a server ignore Range; no browser and not the <mrt-img> client asks for
 *   several, and multipart/byteranges would be a second body format for nobody.
 * - syntactically invalid, or nothing satisfiable → Problem 416 with `Content-Range: bytes * /length`
 */
export function parseRange(header: string | null, length: number): ByteRange | null | Problem {
  if (header == null) return null;
  const h = header.trim();
  const eq = h.indexOf('=');
  if (eq < 0) return unsatisfiable(length, 'malformed Range header');
  const unit = h.slice(0, eq).trim().toLowerCase();
  if (unit !== 'bytes') return null;
  // empty list elements are allowed (RFC 9110 §5.6.1)
  const specs = h.slice(eq + 1).split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (specs.length === 0) return unsatisfiable(length, 'malformed Range header: no byte range');
  const parsed = specs.map((x) => parseSpec(x, length));
  const malformed = parsed.find((r) => 'malformed' in r && r.malformed);
  if (malformed) return unsatisfiable(length, (malformed as SpecError).detail);
  const ok = parsed.filter((r): r is ByteRange => !('detail' in r));
  if (specs.length === 1) return ok[0] ?? unsatisfiable(length, (parsed[0] as SpecError).detail);
  return ok.length ? null : unsatisfiable(length, `none of the ${specs.length} ranges is satisfiable`);
}

type SpecError = { malformed: boolean; detail: string };

/** One `a-b` / `a-` / `-n`: the satisfiable range, or why not. */
function parseSpec(spec: string, length: number): ByteRange | SpecError {
  const m = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
  if (!m || (m[1] === '' && m[2] === '')) return { malformed: true, detail: `malformed byte range '${spec.slice(0, 64)}'` };
  // digits past 2^53 lose precision but stay past any object's length: only comparisons follow
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || length === 0) return { malformed: false, detail: 'empty suffix range' };
    return { start: Math.max(0, length - n), end: length - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? Infinity : Number(m[2]);
  if (end < start) return { malformed: true, detail: 'range end before start' };
  if (start >= length) return { malformed: false, detail: `range starts at ${m[1].length > 20 ? `${m[1].slice(0, 20)}…` : start}, length is ${length}` };
  return { start, end: Math.min(end, length - 1) };
}

function unsatisfiable(length: number, detail: string): Problem {
  return problem(416, 'range-not-satisfiable', detail, { 'Content-Range': `bytes */${length}` });
}

export function isProblem(x: unknown): x is Problem {
  return typeof x === 'object' && x !== null && 'status' in x && 'error' in x;
}

/** If-None-Match (weak comparison, `*` matches any). */
export function noneMatch(header: string | null, etag: string): boolean {
  if (header == null) return false;
  const h = header.trim();
  if (h === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return h.split(',').some((t) => t.trim().replace(/^W\//, '') === opaque);
}

/** If-Range with an entity tag (strong comparison); dates never match (we send no
 * Last-Modified), so a date If-Range always yields the full representation. */
export function ifRangeMatches(header: string | null, etag: string): boolean {
  if (header == null) return true;
  const h = header.trim();
  return !h.startsWith('W/') && h === etag;
}

/** Non-negative integer query parameter (decimal digits only, ≤ 2^53-1). */
export function parseCount(v: string | undefined, name: string): number | undefined | Problem {
  if (v === undefined) return undefined;
  if (!/^\d{1,16}$/.test(v) || !Number.isSafeInteger(Number(v))) {
    return problem(400, 'bad-query', `${name} must be a non-negative integer, got '${v.slice(0, 32)}'`);
  }
  return Number(v);
}
