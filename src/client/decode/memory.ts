// Running out of memory in a decode: the errors that say so, what the page is told, and the
// test hook that simulates it. A WASM runtime that failed to grow its memory (or aborted)
// cannot be trusted with another run, so the worker asks the page to replace it.
import { send } from './env.ts';

/** What V8, Emscripten and onnxruntime-web say when an allocation fails. */
const OUT_OF_MEMORY = /out of memory|\bOOM\b|allocation failed|Array buffer allocation|memory\.grow|Maximum memory size|could not allocate|failed to allocate|Invalid typed array length|Aborted\(/i;

export function isOutOfMemory(e: unknown): boolean {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return OUT_OF_MEMORY.test(msg);
}

let simulated = false;

/** Test hook: the next decoder run fails as a failed WASM memory.grow would. */
export function simulateAllocFailure(): void {
  simulated = true;
}

/** Throws the simulated allocation failure, once, when the test hook asked for it. */
export function allocCheck(): void {
  if (!simulated) return;
  simulated = false;
  throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded (simulated)');
}

/** The worker's memory is in doubt: the page terminates it and starts a new one for the other images. */
export function retire(reason: string): void {
  send({ type: 'retire', reason });
}
