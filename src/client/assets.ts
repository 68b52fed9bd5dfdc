// Content-hashed URLs of the runtime and model files. scripts/build-client.ts writes each
// file the worker may fetch a second time as assets/STEM.HASH.EXT (served with a one-year
// immutable Cache-Control, precompressed) and puts the plain → hashed map into the worker
// bundle. A file is fetched by its hashed name only when it is asked for inside the folder
// the worker was served from (the build the map describes); any other base (ortBase or
// modelBase on another folder or a CDN) gets the plain name it asked for.

/** Plain path relative to the build folder (e.g. 'models/rcm.json') → hashed path ('assets/rcm.0123456789abcdef.json'). */
declare const __MRT_HASHED_ASSETS__: Record<string, string> | undefined;

const HASHED: Record<string, string> = typeof __MRT_HASHED_ASSETS__ === 'object' && __MRT_HASHED_ASSETS__ ? __MRT_HASHED_ASSETS__ : {};

/**
 * The worker bundle's own URL. Not `self.location`: a worker whose script is on another origin
 * than the page (a CDN) runs from a same-origin `blob:` module that imports it
 * (src/client/supervisor.ts), and there `self.location` is the blob's URL.
 */
const SCRIPT_URL: string = import.meta.url;

/** The folder this script was served from (the build's root). */
export function buildRoot(): string {
  return new URL('./', SCRIPT_URL).href;
}

/** The URL to fetch `file` under `base` from: its hashed name when `base` + `file` is a file of this build. */
export function assetUrl(base: string, file: string, root: string = buildRoot(), hashed: Record<string, string> = HASHED): string {
  const url = new URL(file, new URL(base, root)).href;
  const h = url.startsWith(root) ? hashed[url.slice(root.length)] : undefined;
  return h ? new URL(h, root).href : url;
}
