// Loader of kernels.wasm, the lean decoder runtime's WebAssembly SIMD128 kernels (built from
// kernels.c by scripts/build-wasm.sh). Environment-neutral: the caller fetches or reads the
// bytes; this only instantiates them (browsers, workers, Node). Pointers are byte offsets into
// `memory`; tensors are float32 NCHW with batch 1; the caller owns every buffer, starting at
// or after `heapBase` (grow `memory` as needed; re-create typed-array views after growing).

/** The exported kernels, with byte offsets as numbers. See kernels.c for the exact semantics. */
export interface Kernels {
  memory: WebAssembly.Memory;
  /** First free byte of linear memory (the module's `__heap_base`); buffers go from here on. */
  heapBase: number;
  /**
   * y[OC][OH][OW] = conv(x[C][H][W], w[OC][C/groups][KH][KW]) + b, zero padding,
   * OH = floor((H + PT + PB - KH) / SH) + 1, OW = floor((W + PL + PR - KW) / SW) + 1.
   * b = 0: no bias. act: 0 none, 1 relu. y must not overlap x.
   */
  conv2d(
    x: number, C: number, H: number, W: number, w: number, b: number, y: number,
    OC: number, KH: number, KW: number, SH: number, SW: number,
    PT: number, PL: number, PB: number, PR: number, groups: number, act: number,
  ): void;
  /**
   * ONNX ConvTranspose without padding, output padding or dilation: w[C][OC/groups][KH][KW],
   * OH = (H - 1) * SH + KH, OW = (W - 1) * SW + KW. b = 0: no bias. act: 0 none, 1 relu.
   */
  conv_transpose2d(
    x: number, C: number, H: number, W: number, w: number, b: number, y: number,
    OC: number, KH: number, KW: number, SH: number, SW: number, groups: number, act: number,
  ): void;
  /** y = a + b (then relu if act = 1); y may alias a or b. */
  add_f32(a: number, b: number, y: number, n: number, act: number): void;
  /** y = x * mul + add. */
  affine_f32(x: number, y: number, n: number, mul: number, add: number): void;
  /** y = min(max(x, lo), hi). */
  clip_f32(x: number, y: number, n: number, lo: number, hi: number): void;
  /** y = max(x, 0). */
  relu_f32(x: number, y: number, n: number): void;
}

const FUNCTIONS = [
  'conv2d', 'conv_transpose2d', 'add_f32', 'affine_f32', 'clip_f32', 'relu_f32',
] as const;

/** Instantiates kernels.wasm (it has no imports). Throws if an export is missing. */
export async function instantiateKernels(bytes: Uint8Array): Promise<Kernels> {
  const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, {});
  const ex = instance.exports;
  const memory = ex.memory;
  const heapBase = ex.__heap_base;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('kernels.wasm: no exported memory');
  if (!(heapBase instanceof WebAssembly.Global)) throw new Error('kernels.wasm: no exported __heap_base');
  const k: Record<string, unknown> = { memory, heapBase: heapBase.value as number };
  for (const name of FUNCTIONS) {
    const f = ex[name];
    if (typeof f !== 'function') throw new Error(`kernels.wasm: missing export ${name}`);
    k[name] = f;
  }
  return k as unknown as Kernels;
}
