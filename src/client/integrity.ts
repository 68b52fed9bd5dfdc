// Integrity of the files the decode worker runs (subresource-integrity style). The root is
// manifest.json: it lists the sha256 of every model file, and those are checked against it
// (runtime.ts). The manifest itself and the runtime's .wasm are checked against a digest the
// page trusts: one set with MrtImg.configure({ integrity: { 'manifest.json': 'sha256-…' } })
// (another model folder, a CDN copy of the runtime; an earlier model's manifest, loaded from
// <modelBase><prefix>/ for a stream that names it, as '<prefix>/manifest.json'), else, for a
// file of the build the worker came from, the whole sha256 the build carries for the hashed
// name it gave the file (assets/STEM.HASH.EXT, src/client/assets.ts; every shipped model's
// files are in it; a bundle without the digests falls back to the name's 64-bit hash). A file
// with neither is not checked, and the console says so once per file.
import { buildRoot } from './assets.ts';

/** Hashed path of this build ('assets/rcm.0123456789abcdef.json') → its whole sha256 (scripts/build-client.ts). */
declare const __MRT_ASSET_DIGESTS__: Record<string, string> | undefined;
const DIGESTS: Record<string, string> = typeof __MRT_ASSET_DIGESTS__ === 'object' && __MRT_ASSET_DIGESTS__ ? __MRT_ASSET_DIGESTS__ : {};

/** What a file is checked against: whole digests (configured) or a sha256 prefix (a hashed name). */
export interface Pin {
  /** 'SHA-256' | 'SHA-384' | 'SHA-512' → acceptable hex digests or hex prefixes. */
  digests: { alg: 'SHA-256' | 'SHA-384' | 'SHA-512'; hex: string }[];
  /** Where the pin comes from (for messages). */
  source: string;
}

function b64ToHex(b64: string): string | null {
  try {
    return [...atob(b64)].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  } catch {
    return null;
  }
}

/**
 * An integrity value: SRI tokens ('sha256-<base64>', 'sha384-…', 'sha512-…', several
 * separated by spaces: any may match) or a sha256 as 64 hex digits. Throws on anything else:
 * a pin the page meant to set must never be ignored.
 */
export function parseIntegrity(value: string, file: string): Pin['digests'] {
  const out: Pin['digests'] = [];
  for (const token of value.trim().split(/\s+/)) {
    const sri = /^sha(256|384|512)-([A-Za-z0-9+/_-]+={0,2})$/.exec(token);
    const hex = sri ? b64ToHex(sri[2]!.replace(/-/g, '+').replace(/_/g, '/')) : /^[0-9a-f]{64}$/i.test(token) ? token.toLowerCase() : null;
    const alg = sri ? (`SHA-${sri[1]}` as Pin['digests'][number]['alg']) : 'SHA-256';
    if (!hex || hex.length !== (alg === 'SHA-256' ? 64 : alg === 'SHA-384' ? 96 : 128)) {
      throw new Error(`integrity for ${file} is not a sha256/384/512 digest ('sha256-<base64>' or 64 hex digits): ${token}`);
    }
    out.push({ alg, hex });
  }
  return out;
}

/** The sha256 this build carries for one of its hashed assets (assets/STEM.HASH.EXT), else the hash in the name, else null. */
function hashedNameDigest(url: string, root: string, digests: Record<string, string> = DIGESTS): string | null {
  if (!url.startsWith(root + 'assets/')) return null;
  const whole = digests[url.slice(root.length)];
  if (whole) return whole;
  const m = /\.([0-9a-f]{16,64})(\.[A-Za-z0-9]+)?$/.exec(new URL(url).pathname);
  return m ? m[1]! : null;
}

/** The pin for `file` (its plain name, as configured) fetched from `url`, or null when there is none. */
export function pinFor(file: string, url: string, configured: Record<string, string> | undefined, root: string = buildRoot(), digests: Record<string, string> = DIGESTS): Pin | null {
  const set = configured?.[file];
  if (set) return { digests: parseIntegrity(set, file), source: 'the page settings (integrity)' };
  const h = hashedNameDigest(url, root, digests);
  return h ? { digests: [{ alg: 'SHA-256', hex: h }], source: h.length === 64 ? 'this build' : 'its content-hashed name in this build' } : null;
}

async function hexDigest(alg: string, bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest(alg, bytes as Uint8Array<ArrayBuffer>));
  return [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Why `bytes` fail `pin`, or null when one of its digests matches. */
export async function pinProblem(bytes: Uint8Array, pin: Pin, file: string, url: string): Promise<string | null> {
  const seen: string[] = [];
  for (const d of pin.digests) {
    const got = await hexDigest(d.alg, bytes);
    if (got.startsWith(d.hex)) return null;
    seen.push(`${d.alg.toLowerCase().replace('-', '')} ${got.slice(0, d.hex.length)}`);
  }
  return `${file} (${url}) does not match the digest pinned by ${pin.source}: got ${seen.join(', ')}, expected ${pin.digests.map((d) => d.hex).join(' or ')}`;
}

const warned = new Set<string>();

/** Says once per file that it is not checked (no pin for it). */
export function warnUnpinned(file: string, url: string): void {
  if (warned.has(url)) return;
  warned.add(url);
  console.warn(`[mrt-worker] ${file} (${url}) is not pinned: set its digest with MrtImg.configure({ integrity: { '${file}': 'sha256-…' } }) to have it checked`);
}
