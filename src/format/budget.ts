/**
 * Byte budget for an .mrt prefix from client hints: ONE rule, shared by the edge (HTTP
 * client hints) and the browser client (navigator.connection, devicePixelRatio, the
 * element's box). Pure: no globals, no I/O, no knowledge of the container; the caller
 * cuts the stream with `prefixLength(info, { bytes })` from src/format (exact for raw
 * chunk framing; older streams round down to a chunk boundary).
 *
 * The rule (all caps are combined with `min`; no hint → no cap → the whole stream):
 *
 * 1. Displayed size. The target width in physical pixels is `widthPx` (Sec-CH-Width /
 *    Width, already in device pixels), else `viewportWidthCss * (dpr ?? 1)`
 *    (Sec-CH-Viewport-Width / Viewport-Width are CSS pixels), else the image width.
 *    It is clamped to [1, image.width]; `scale = tw / w` and
 *    `displayPixels = tw * round(tw * h / w)`. DPR alone changes nothing (the slot size
 *    is not known). When `scale < 1` the display cap is
 *    `totalBytes * max(scale, DISPLAY_FLOOR)`: linear in the scale, not in the pixel
 *    count, because every token layer covers the whole image at full resolution and the
 *    first layers carry most of the bytes (a half-width display keeps about half).
 * 2. Network class (ECT: slow-2g, 2g, 3g; 4g is no cap) → bits per displayed pixel,
 *    `ECT_BITS_PER_PIXEL`; cap = `bpp * displayPixels / 8`. `Save-Data: on` lowers the
 *    rate to at most `SAVE_DATA_BITS_PER_PIXEL`.
 * 3. Throughput. With `downlinkMbps` (Downlink; Mbit/s) the stream should arrive within
 *    `TARGET_SECONDS` after one round trip: cap = `downlinkMbps * 125000 *
 *    max(MIN_TRANSFER_SECONDS, TARGET_SECONDS - rttMs/1000)`. RTT without Downlink: an
 *    RTT of `SLOW_RTT_MS` or more is treated as 3g (bpp rule above) unless ECT is given.
 * 4. Floor: the result is never below `image.minBytes` (callers pass the end of the
 *    first chunk so that a hinted response always carries at least one layer of tokens;
 *    explicit `?bytes=`/`?q=` requests are not subject to this rule at all).
 *
 * The result is an integer number of bytes or `Infinity` (no cap). `reasons` lists the
 * caps that applied, for logging and the X-MRT-Selection header.
 */

export interface BudgetHints {
  /** Save-Data: on / navigator.connection.saveData */
  saveData?: boolean;
  /** ECT / navigator.connection.effectiveType: 'slow-2g' | '2g' | '3g' | '4g' */
  ect?: string;
  /** Downlink / navigator.connection.downlink, Mbit/s */
  downlinkMbps?: number;
  /** RTT / navigator.connection.rtt, milliseconds */
  rttMs?: number;
  /** DPR / Sec-CH-DPR / devicePixelRatio */
  dpr?: number;
  /** Sec-CH-Width / Width: the slot width in physical (device) pixels */
  widthPx?: number;
  /** Sec-CH-Viewport-Width / Viewport-Width / innerWidth, CSS pixels */
  viewportWidthCss?: number;
}

export interface BudgetImage {
  width: number;
  height: number;
  /** total byte length of the stream */
  totalBytes: number;
  /** lower bound for a hint-derived budget (e.g. end of the first chunk); default 0 */
  minBytes?: number;
}

export interface Budget {
  /** byte budget (integer) or Infinity for "whole stream" */
  bytes: number;
  /** which caps applied, e.g. ['ect=3g', 'width=384'] (empty: no hint applied) */
  reasons: string[];
}

export const ECT_BITS_PER_PIXEL: Readonly<Record<string, number>> = Object.freeze({
  'slow-2g': 0.03,
  '2g': 0.06,
  '3g': 0.2,
});
export const SAVE_DATA_BITS_PER_PIXEL = 0.06;
export const DISPLAY_FLOOR = 1 / 8;
export const TARGET_SECONDS = 1;
export const MIN_TRANSFER_SECONDS = 0.25;
export const SLOW_RTT_MS = 600;

function positive(n: number | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

export function budgetFor(hints: BudgetHints, image: BudgetImage): Budget {
  const reasons: string[] = [];
  const { width, height, totalBytes } = image;
  let cap = Infinity;
  if (!(width > 0 && height > 0 && totalBytes > 0)) return { bytes: Infinity, reasons };

  // 1. displayed size
  let targetWidth = width;
  if (positive(hints.widthPx)) {
    targetWidth = hints.widthPx;
    reasons.push(`width=${Math.round(hints.widthPx)}`);
  } else if (positive(hints.viewportWidthCss)) {
    const dpr = positive(hints.dpr) ? hints.dpr : 1;
    targetWidth = hints.viewportWidthCss * dpr;
    reasons.push(`viewport=${Math.round(hints.viewportWidthCss)}x${dpr}`);
  }
  targetWidth = Math.max(1, Math.min(width, Math.round(targetWidth)));
  const targetHeight = Math.max(1, Math.round((targetWidth * height) / width));
  const displayPixels = targetWidth * targetHeight;
  const scale = targetWidth / width;
  if (scale < 1) cap = Math.min(cap, totalBytes * Math.max(scale, DISPLAY_FLOOR));
  else if (reasons.length) reasons.pop(); // the slot is at least the image: no cap

  // 2. network class and Save-Data
  let bpp = Infinity;
  const ect = typeof hints.ect === 'string' ? hints.ect.trim().toLowerCase() : undefined;
  if (ect && ECT_BITS_PER_PIXEL[ect] !== undefined) {
    bpp = ECT_BITS_PER_PIXEL[ect]!;
    reasons.push(`ect=${ect}`);
  } else if (!ect && !positive(hints.downlinkMbps) && positive(hints.rttMs) && hints.rttMs >= SLOW_RTT_MS) {
    bpp = ECT_BITS_PER_PIXEL['3g']!;
    reasons.push(`rtt=${Math.round(hints.rttMs)}`);
  }
  if (hints.saveData) {
    bpp = Math.min(bpp, SAVE_DATA_BITS_PER_PIXEL);
    reasons.push('save-data');
  }
  if (Number.isFinite(bpp)) cap = Math.min(cap, (bpp * displayPixels) / 8);

  // 3. throughput
  if (positive(hints.downlinkMbps)) {
    const rtt = positive(hints.rttMs) ? hints.rttMs : 0;
    const seconds = Math.max(MIN_TRANSFER_SECONDS, TARGET_SECONDS - rtt / 1000);
    const bytes = hints.downlinkMbps * 125000 * seconds;
    if (bytes < totalBytes) {
      cap = Math.min(cap, bytes);
      reasons.push(`downlink=${hints.downlinkMbps}`);
    }
  }

  if (!Number.isFinite(cap)) return { bytes: Infinity, reasons: [] };
  const floor = Math.max(0, Math.floor(image.minBytes ?? 0));
  return { bytes: Math.max(floor, Math.floor(cap)), reasons };
}

function num(v: string | null | undefined): number | undefined {
  if (v == null) return undefined;
  const s = v.trim();
  if (!/^\d{1,9}(\.\d{1,6})?$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** Client hints from HTTP request headers (`get` is e.g. `(n) => request.headers.get(n)`).
 * Malformed values are ignored (a hint never causes an error). */
export function hintsFromHeaders(get: (name: string) => string | null): BudgetHints {
  const h: BudgetHints = {};
  const sd = get('save-data');
  if (sd && sd.trim().toLowerCase() === 'on') h.saveData = true;
  const ect = get('ect') ?? get('sec-ch-ect');
  if (ect) h.ect = ect.trim().replace(/^"|"$/g, '').toLowerCase();
  h.downlinkMbps = num(get('downlink') ?? get('sec-ch-downlink'));
  h.rttMs = num(get('rtt') ?? get('sec-ch-rtt'));
  h.dpr = num(get('sec-ch-dpr') ?? get('dpr'));
  h.widthPx = num(get('sec-ch-width') ?? get('width'));
  h.viewportWidthCss = num(get('sec-ch-viewport-width') ?? get('viewport-width'));
  for (const k of Object.keys(h) as (keyof BudgetHints)[]) if (h[k] === undefined) delete h[k];
  return h;
}

/** Names of the request headers `hintsFromHeaders` reads (for Vary / Accept-CH). */
export const HINT_HEADERS = [
  'Save-Data', 'ECT', 'Downlink', 'RTT', 'Sec-CH-DPR', 'DPR', 'Sec-CH-Width', 'Width',
  'Sec-CH-Viewport-Width', 'Viewport-Width',
] as const;

/** Hints in the browser: `navigator.connection` (may be undefined), devicePixelRatio and the
 * element's rendered width in CSS pixels. */
export function hintsFromNavigator(
  connection: { saveData?: boolean; effectiveType?: string; downlink?: number; rtt?: number } | undefined,
  devicePixelRatio?: number,
  elementWidthCss?: number,
): BudgetHints {
  const h: BudgetHints = {};
  if (connection?.saveData) h.saveData = true;
  if (connection?.effectiveType) h.ect = connection.effectiveType;
  if (positive(connection?.downlink)) h.downlinkMbps = connection!.downlink;
  if (positive(connection?.rtt)) h.rttMs = connection!.rtt;
  if (positive(devicePixelRatio)) h.dpr = devicePixelRatio;
  if (positive(elementWidthCss)) h.widthPx = elementWidthCss * (positive(devicePixelRatio) ? devicePixelRatio : 1);
  return h;
}

/**
 * The fixed byte budgets a server serves, so that CDN cache keys do not multiply: 0 (the
 * header alone) and 256 B × 2^k (256, 512, 1 Ki, 2 Ki, 4 Ki, … 1 Gi; a rung at or past the
 * stream's length is the whole stream). A budget is rounded **up** to its rung: never fewer
 * bytes than asked, at most twice as many (a client that wants exactly N asks for the rung
 * with `Range: bytes=0-(N-1)`, as `<mrt-img>` does). The edge applies it to `?bytes=` and to
 * hint-derived budgets; the cut is then `prefixLength(info, { bytes: rung })` as before.
 */
export const BUDGET_LADDER_MIN = 256;
export const BUDGET_LADDER_MAX = 2 ** 30;

export function budgetRung(bytes: number): number {
  if (!(bytes > 0)) return 0;
  if (bytes >= BUDGET_LADDER_MAX) return Math.max(BUDGET_LADDER_MAX, Math.ceil(bytes));
  let r = BUDGET_LADDER_MIN;
  while (r < bytes) r *= 2;
  return r;
}
