// sharp and onnxruntime-node are optional peer dependencies of the package: a browser or edge
// install has neither. The encoder loads them on first use, so that `mrt-img/encoder` and
// `mrt info` load without them, and a missing one is an error that says what to install.
import type SharpModule from 'sharp';
import type * as OrtModule from 'onnxruntime-node';

export type Sharp = typeof SharpModule;
export type Ort = typeof OrtModule;

/** An optional peer dependency the encoder needs is not installed. */
export class MissingPeerError extends Error {
  readonly code = 'MRT_MISSING_PEER';
  constructor(readonly peer: string, cause: unknown) {
    super(
      `the mrt-img encoder needs ${peer}, an optional peer dependency that is not installed: ` +
        'npm install sharp onnxruntime-node --onnxruntime-node-install=skip ' +
        "(the flag keeps onnxruntime-node's install script from downloading CUDA libraries on Linux x64)",
      { cause },
    );
    this.name = 'MissingPeerError';
  }
}

function notInstalled(e: unknown, peer: string): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === 'ERR_MODULE_NOT_FOUND' && (err.message ?? '').includes(`'${peer}'`);
}

async function load<T>(peer: string, get: () => Promise<T>): Promise<T> {
  try {
    return await get();
  } catch (e) {
    // a peer that is there but fails to load (e.g. a native binary for another platform) keeps its own error
    throw notInstalled(e, peer) ? new MissingPeerError(peer, e) : e;
  }
}

let sharp: Promise<Sharp> | null = null;
let ort: Promise<Ort> | null = null;

export function loadSharp(): Promise<Sharp> {
  return (sharp ??= load('sharp', async () => (await import('sharp')).default));
}

export function loadOrt(): Promise<Ort> {
  return (ort ??= load('onnxruntime-node', () => import('onnxruntime-node')));
}
