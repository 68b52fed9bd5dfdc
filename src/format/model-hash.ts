// Which model a stream needs: Index.model_hash is a prefix of the manifest's modelHash
// (sha256, 32 bytes). 2.0/2.1 writers stored 16 bytes, 2.2-2.6 writers 8, 2.7 writers 4:
// 32 bits tell the few model versions apart (two match by chance once in 2^32; the model
// files themselves are checked against their sha256s), and each byte comes before the first token.

/** Bytes of the manifest's modelHash that the encoder writes. */
export const MODEL_HASH_BYTES = 4;
/** Shorter stored hashes do not identify a model: never a match. */
const MIN_MODEL_HASH_BYTES = 4;

/** Lower-case hex of bytes (model and content hashes as `mrt info` and messages show them). */
export function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** How messages name the model a stream needs: its label when the writer stored one, else its hash prefix in hex. */
export function modelLabel(h: { modelId: string; modelHash: Uint8Array }): string {
  if (h.modelId) return h.modelId;
  return h.modelHash.length ? `with hash ${hex(h.modelHash)}` : '?';
}

/** The stream's stored hash names this model (`model`: the manifest's modelHash bytes). */
export function modelHashMatches(stored: Uint8Array, model: Uint8Array): boolean {
  if (stored.length < MIN_MODEL_HASH_BYTES || stored.length > model.length) return false;
  for (let i = 0; i < stored.length; i++) if (stored[i] !== model[i]) return false;
  return true;
}

/** The layout fields a model fixes (models/manifest.json `layout`). */
export interface ModelLayoutFields {
  window: number;
  baseFactor: number;
  tokens: number;
  levels: number;
}

/**
 * Why a stream's layout does not fit a model's manifest (window, base factor, tokens per
 * window, levels), or null when it does. A stream whose hash names the model but whose layout
 * differs is corrupt or hostile: its tensors would not have the model's shapes.
 */
export function layoutMismatch(stream: { window: number; baseFactor: number; tokensPerWindow: number; levels: number }, model: ModelLayoutFields): string | null {
  const diff: string[] = [];
  if (stream.window !== model.window) diff.push(`window ${stream.window} (model ${model.window})`);
  if (stream.baseFactor !== model.baseFactor) diff.push(`base factor ${stream.baseFactor} (model ${model.baseFactor})`);
  if (stream.tokensPerWindow !== model.tokens) diff.push(`${stream.tokensPerWindow} tokens per window (model ${model.tokens})`);
  if (stream.levels !== model.levels) diff.push(`${stream.levels} levels (model ${model.levels})`);
  return diff.length ? `stream layout does not match the model's manifest: ${diff.join(', ')}` : null;
}
