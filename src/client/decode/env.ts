// Worker-wide state of the decode worker: the page's settings, the message channel to the
// page, the one ONNX run queue, and how errors become `error` event details.
import { MrtFormatError } from '../../format/index.ts';
import type { FromWorker } from '../protocol.ts';
import { ClientError } from '../runtime.ts';
import { nextTask, RunScheduler } from '../scheduler.ts';
import type { MrtConfig, MrtErrorDetail } from '../types.ts';

export type Cfg = MrtConfig & { ortBase: string; modelBase: string };

let current: Cfg = { ortBase: './', modelBase: './models/' };

/** The page's settings (MrtImg.configure), as the page last sent them. */
export function cfg(): Cfg {
  return current;
}

export function configure(c: Cfg): void {
  current = { ...current, ...c };
}

/**
 * The visitor asked to save data (the page resolves MrtConfig.saveData) and the page did not
 * ask for the learned decoder anyway: learned paints (and the token preview) only from cached files (gate.ts).
 */
export function saveDataHolds(): boolean {
  return current.saveData === true && current.saveDataRuntime !== 'load';
}


export function send(m: FromWorker, transfer: Transferable[] = []): void {
  (self as unknown as { postMessage(m: FromWorker, transfer?: Transferable[]): void }).postMessage(m, transfer);
}

/**
 * Tells the page's watchdog that the worker is about to block for up to `ms` (a decoder run
 * or a token decode that cannot answer pings meanwhile), so that it is not taken for dead.
 */
export function busyFor(ms: number): void {
  send({ type: 'busy', ms: Math.ceil(ms) });
}

/** How long an image's placeholder may hold other work: the page's learned runs (Job.awaitsFirstPaint) and token decoding (tokenTurn). */
export const FIRST_PAINT_HOLD_MS = 1500;
/** Placeholders being decoded now (their bytes are here), and who waits for none to be. */
let placeholders = 0;
let placeholderWaiters: (() => void)[] = [];

/** A placeholder starts decoding; the returned function says it is painted (or given up). */
export function placeholderBegins(): () => void {
  placeholders++;
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    if (--placeholders > 0) return;
    const w = placeholderWaiters;
    placeholderWaiters = [];
    for (const r of w) r();
  };
}

/** Token decoding runs this long at most before it lets the worker's other tasks in. */
const TOKEN_SLICE_MS = 16;
let sliceStart = 0;
/**
 * Resolves when a piece of a stream's tokens may be decoded: after the worker's other tasks
 * (other streams' reads) once every TOKEN_SLICE_MS, and once no placeholder is being decoded
 * (at most FIRST_PAINT_HOLD_MS). Token decoding blocks the worker (~75 k symbols, 0.3–0.5 s at a
 * quarter core for a 1.5 KB read), and every image's first paint matters more than any image's
 * tokens.
 */
export async function tokenTurn(): Promise<void> {
  if (placeholders > 0 || performance.now() - sliceStart >= TOKEN_SLICE_MS) {
    await nextTask();
    if (placeholders > 0) await Promise.race([new Promise<void>((r) => placeholderWaiters.push(r)), new Promise((r) => setTimeout(r, FIRST_PAINT_HOLD_MS))]);
    sliceStart = performance.now();
  }
}

/** One ONNX run at a time for the whole page. */
export const scheduler = new RunScheduler();

export function errDetail(e: unknown, fatal: boolean): MrtErrorDetail {
  if (e instanceof ClientError) return { code: e.code, message: e.message, fatal };
  if (e instanceof MrtFormatError) {
    const code = e.code === 'truncated' ? 'truncated' : 'corrupt';
    return { code, message: `${e.code}: ${e.message}`, fatal };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { code: 'runtime', message: msg, fatal };
}
