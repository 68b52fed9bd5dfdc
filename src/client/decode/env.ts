// Worker-wide state of the decode worker: the page's settings, the message channel to the
// page, the one ONNX run queue, and how errors become `error` event details.
import { MrtFormatError } from '../../format/index.ts';
import type { FromWorker } from '../protocol.ts';
import { ClientError } from '../runtime.ts';
import { RunScheduler } from '../scheduler.ts';
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
