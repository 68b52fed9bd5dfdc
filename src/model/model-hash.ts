// The model hash a manifest claims, recomputed from the digests of the files that define the
// tokens (docs/design.md, models/README.md): sha256 of the raw 32-byte sha256 digests of
// decoder.onnx, encoder.onnx and rcm.json (when the model has one), in that order. One
// implementation for Node (loadModels) and the browser worker (runtime.ts loadDecoder);
// WebCrypto, present in both.
import type { Manifest } from './io.ts';

/**
 * Hex digits of the modelHash that name a shipped model's versioned folder
 * (`models/<prefix>/`, served at `/models/<prefix>/`): 4 bytes, the shortest stored hash
 * that names a model at all (src/format/model-hash.ts), so every stream that names one
 * names its folder.
 */
export const MODEL_DIR_HEX = 8;

function unhex(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** modelHash from the hex sha256s of decoder.onnx, encoder.onnx and rcm.json ('' or undefined: none). */
export async function modelHashOf(decoderSha: string, encoderSha: string, rcmSha?: string): Promise<string> {
  const parts = [unhex(decoderSha), unhex(encoderSha), rcmSha ? unhex(rcmSha) : new Uint8Array(0)];
  const cat = new Uint8Array(parts.reduce((k, p) => k + p.length, 0));
  let o = 0;
  for (const p of parts) {
    cat.set(p, o);
    o += p.length;
  }
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', cat)));
}

/**
 * Why a manifest's modelHash is not the one its listed digests give, or null. (The files
 * themselves are checked against those digests where they are read.)
 */
export async function manifestHashProblem(manifest: Pick<Manifest, 'files' | 'modelHash'>): Promise<string | null> {
  const dec = manifest.files['decoder.onnx']?.sha256;
  const enc = manifest.files['encoder.onnx']?.sha256;
  if (!dec || !enc) return `the manifest does not list ${dec ? 'encoder.onnx' : 'decoder.onnx'}'s sha256: its modelHash cannot be checked`;
  const mh = await modelHashOf(dec, enc, manifest.files['rcm.json']?.sha256);
  return mh === manifest.modelHash.toLowerCase() ? null : `manifest modelHash ${manifest.modelHash} does not match its files (${mh})`;
}

/** The versioned folder name of a model: the first MODEL_DIR_HEX hex digits of its hash (a manifest's modelHash, or a stream's stored bytes). */
export function modelDirName(hash: string | Uint8Array): string | null {
  const h = typeof hash === 'string' ? hash.toLowerCase() : hex(hash);
  return h.length >= MODEL_DIR_HEX && /^[0-9a-f]+$/.test(h) ? h.slice(0, MODEL_DIR_HEX) : null;
}

/** Whether `name` is a versioned model folder's name (8 lower-case hex digits). */
export function isModelDirName(name: string): boolean {
  return new RegExp(`^[0-9a-f]{${MODEL_DIR_HEX}}$`).test(name);
}
