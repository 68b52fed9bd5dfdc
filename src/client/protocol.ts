// Messages between the page (mrt-img.ts) and the decode worker (worker.ts).
import type { BudgetHints } from '../format/budget.ts';
import type { Backend, BudgetSpec, MrtConfig, MrtErrorDetail, MrtLoadDetail, MrtPaintDetail, MrtProgressDetail } from './types.ts';

/**
 * Default of MrtConfig.maxLearnedPaints: decoder runs per image and load. One per chunk of the
 * encoder's default streams (8-10 chunks), so that those paint as every chunk arrives; what it
 * bounds is the rest: runs on partial chunks back to back for as long as a slow download lasts,
 * streams of many small chunks, refines.
 */
export const MAX_LEARNED_PAINTS_DEFAULT = 10;

export interface StartOptions {
  url: string;
  /** Explicit budget, null for the whole stream, or hints for the shared budget rule. */
  budget: BudgetSpec | { hints: BudgetHints };
  /**
   * `budget="auto"` where the browser has no navigator.connection: the worker measures the
   * stream's own arrival (RTT, throughput) and feeds the shared rule with it (throughput.ts).
   */
  measure?: boolean;
  /** The element's rendered box in CSS px (for a hint budget's first Range, before the header tells the image's size). */
  box?: { width: number; height: number };
  regenerate: boolean;
  throttle: number;
  priority: 'high' | 'low' | 'auto';
  /** Keep the decoded token buffer for `tokens` requests (tests). */
  keepTokens?: boolean;
  /** false: the learned layer, never the final layer alone (the page could not show it on its own). */
  direct?: false;
  /** The stream's first bytes, which the page read already (first-visit.ts): the first request starts after them. */
  head?: StreamHead;
}

/**
 * The response the page had for the stream's first bytes: its body itself where streams can be
 * transferred to a worker, else the bytes it read (`broken`: the connection broke off after them).
 */
export interface StreamHead {
  status: number;
  contentRange: string | null;
  contentLength: string | null;
  body?: ReadableStream<Uint8Array>;
  bytes?: ArrayBuffer;
  broken?: boolean;
}

/**
 * What the first request asks for when the image may read its final layer on its own: the
 * Header (256 B by default) and the Index (~50-60 B), with room to spare. A stream without a
 * final layer goes on with a Range request from there.
 */
export const DIRECT_HEAD_BYTES = 512;

export type ToWorker =
  /**
   * The page's settings (`saveData` resolved to a boolean); `gate`: the page has painted or
   * idled already, or called MrtImg.warm() (decode/gate.ts): the runtime may load.
   */
  | { type: 'config'; config: MrtConfig & { ortBase: string; modelBase: string }; gate?: string }
  /** The page's first contentful paint or idle time came ('fcp' | 'idle'): the runtime may load (decode/gate.ts). */
  | { type: 'open-gate'; why: string }
  | { type: 'start'; id: number; opts: StartOptions }
  | { type: 'refine'; id: number }
  | { type: 'cancel'; id: number }
  /** The page could not show the final layer it was sent (not decodable here, or not its size): learned paints resume. */
  | { type: 'final-failed'; id: number }
  | { type: 'tokens'; id: number; req: number }
  | { type: 'warm' }
  /**
   * A first visit's images showed their final layers without the worker (first-visit.ts): the
   * learned decoder loads now, once the gate is open, for later images and the next visit.
   */
  | { type: 'prefetch' }
  /** Watchdog (supervisor.ts): any message back proves the worker alive. */
  | { type: 'ping' }
  /** Test hook: destroys the WebGPU device the decoder runs on (a simulated device loss). */
  | { type: 'lose-device' }
  /**
   * Test hooks: an uncaught error in the worker; a worker that stops answering (busy for
   * good, or for `ms`, announced with a 'busy' notice when `notice`); the next decoder run
   * failing to allocate.
   */
  | { type: 'crash' }
  | { type: 'hang'; ms?: number; notice?: boolean }
  | { type: 'fail-alloc' };

export interface HeaderInfo {
  /** the learned layer's size: what the canvas paints */
  width: number;
  height: number;
  /** the image's size (2.11: larger than the learned layer; its final layer is this size) */
  imageWidth: number;
  imageHeight: number;
  totalBytes: number | null;
  totalTokens: number;
  chunkCount: number;
}

export type FromWorker =
  | { type: 'header'; id: number; info: HeaderInfo }
  | { type: 'paint'; id: number; bitmap: ImageBitmap; detail: MrtPaintDetail; crop?: [number, number] }
  /** The final layer's bytes (checked against the header's image size on its own header): the page shows it as an <img>. */
  | { type: 'final'; id: number; mime: string; bytes: ArrayBuffer; detail: MrtPaintDetail }
  | { type: 'progress'; id: number; detail: MrtProgressDetail }
  | { type: 'load'; id: number; detail: MrtLoadDetail }
  | { type: 'error'; id: number; detail: MrtErrorDetail }
  | { type: 'partial'; id: number; partial: boolean }
  | { type: 'tokens'; id: number; req: number; tokens: Uint8Array | null; known: number }
  /** `error`: why a backend was left (console.warn); `note`: a decision the page logs as information (Save-Data). */
  | { type: 'backend'; backend: Backend | null; error?: string; note?: string }
  | { type: 'stats'; id: number; stats: Record<string, number | string> }
  /** The worker ran its script (a loss before this is a worker that never loaded). */
  | { type: 'ready' }
  | { type: 'pong' }
  /** The worker is about to block for up to `ms` (a decoder run, a large token decode): the watchdog waits that much longer. */
  | { type: 'busy'; ms: number }
  /** The worker cannot go on (its runtime ran out of memory): the page replaces it. */
  | { type: 'retire'; reason: string };
