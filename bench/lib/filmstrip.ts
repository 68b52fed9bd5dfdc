// What was on screen over time: DevTools screencast frames (PNG, timestamped by the browser
// when the compositor produced them; a frame comes only when the screen changed), cut into
// the image regions of a page and scored against the originals at the displayed size.
import { createHash } from 'node:crypto';
import type { CDPSession } from 'playwright-core';
import sharp from 'sharp';
import { psnr } from './metrics.ts';
import { Ssimulacra2, type RgbLike } from './ssimulacra2.ts';

export interface Frame {
  /** epoch ms (the browser's capture time) */
  at: number;
  png: Buffer;
}

export class Filmstrip {
  readonly frames: Frame[] = [];
  private readonly onFrame = (f: { data: string; sessionId: number; metadata: { timestamp?: number } }) => {
    this.frames.push({ at: (f.metadata.timestamp ?? Date.now() / 1000) * 1000, png: Buffer.from(f.data, 'base64') });
    this.cdp.send('Page.screencastFrameAck', { sessionId: f.sessionId }).catch(() => undefined);
  };

  constructor(private readonly cdp: CDPSession) {}

  async start(width: number, height: number): Promise<void> {
    this.cdp.on('Page.screencastFrame', this.onFrame);
    await this.cdp.send('Page.startScreencast', { format: 'png', maxWidth: width, maxHeight: height, everyNthFrame: 1 });
  }

  async stop(): Promise<void> {
    await this.cdp.send('Page.stopScreencast').catch(() => undefined);
    this.cdp.off('Page.screencastFrame', this.onFrame);
  }
}

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
  /** the original at the displayed size */
  reference: RgbLike;
}

export interface Score {
  psnr: number;
  ssim2: number;
}

/** One region's state at each frame, scored once per distinct content. */
export class RegionScorer {
  private readonly cache = new Map<string, Promise<Score>>();
  private readonly ssim: Ssimulacra2;
  readonly blank: Promise<Score>;

  constructor(private readonly region: Region) {
    this.ssim = new Ssimulacra2(region.reference);
    const white = new Uint8Array(region.width * region.height * 3).fill(255);
    this.blank = this.score(white);
  }

  /** Scores a region's pixels, once per distinct content. */
  score(px: Uint8Array): Promise<Score> {
    const h = createHash('sha1').update(px).digest('hex');
    let s = this.cache.get(h);
    if (!s) {
      s = this.ssim.score({ width: this.region.width, height: this.region.height, data: px }).then((ssim2) => ({ psnr: psnr(this.region.reference.data, px), ssim2 }));
      this.cache.set(h, s);
    }
    return s;
  }

  /** This region of a decoded frame (RGB rows); a region outside the frame is an error. */
  crop(frame: { data: Buffer; width: number; height: number }): { hash: string; px: Uint8Array } {
    const { x, y, width, height } = this.region;
    if (x + width > frame.width || y + height > frame.height) throw new Error(`region ${width}x${height}+${x}+${y} outside a ${frame.width}x${frame.height} frame`);
    const px = new Uint8Array(width * height * 3);
    for (let r = 0; r < height; r++) px.set(frame.data.subarray(((y + r) * frame.width + x) * 3, ((y + r) * frame.width + x + width) * 3), r * width * 3);
    return { hash: createHash('sha1').update(px).digest('hex'), px };
  }

  close(): Promise<void> {
    return this.ssim.close();
  }
}

export interface TimelinePoint {
  /** ms since navigation start */
  t: number;
  /** PSNR over all regions' pixels (pooled squared error); SSIMULACRA 2.1: the mean over regions */
  psnr: number;
  ssim2: number;
  /** every region shows something other than the blank page */
  painted: boolean;
}

export interface Timeline {
  /** one point per distinct screen state, in time order (the first is the blank page at t = 0) */
  points: TimelinePoint[];
  /** the last time any region changed, ms since navigation start */
  settledAt: number;
}

/** Scores every frame's regions; times are relative to `origin` (epoch ms of navigation start). */
export async function scoreFrames(frames: Frame[], regions: Region[], origin: number): Promise<Timeline> {
  const scorers = regions.map((r) => new RegionScorer(r));
  try {
    const blanks = await Promise.all(scorers.map((s) => s.blank));
    const points: TimelinePoint[] = [{ t: 0, psnr: pooledPsnr(blanks.map((b) => b.psnr), regions), ssim2: mean(blanks.map((b) => b.ssim2)), painted: false }];
    const last: string[] = regions.map(() => '');
    let settledAt = 0;
    for (const f of frames) {
      const t = Math.max(0, f.at - origin);
      const { data, info } = await sharp(f.png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const crops = scorers.map((s) => s.crop({ data, width: info.width, height: info.height }));
      if (crops.every((c, i) => c.hash === last[i])) continue;
      crops.forEach((c, i) => (last[i] = c.hash));
      settledAt = t;
      const scores: Score[] = [];
      // one SSIMULACRA 2 process at a time: the benchmark shares two cores with the browser
      for (let i = 0; i < scorers.length; i++) scores.push(await scorers[i]!.score(crops[i]!.px));
      points.push({
        t,
        psnr: pooledPsnr(scores.map((s) => s.psnr), regions),
        ssim2: mean(scores.map((s) => s.ssim2)),
        painted: scores.every((s, i) => s.psnr > blanks[i]!.psnr + 1),
      });
    }
    return { points, settledAt };
  } finally {
    await Promise.all(scorers.map((s) => s.close()));
  }
}

/**
 * PSNR over the pixels of all regions together (their squared errors pooled), so that one
 * image still blank weighs as much as its area, not as one score among twelve.
 */
function pooledPsnr(psnrs: number[], regions: Region[]): number {
  let se = 0;
  let n = 0;
  psnrs.forEach((p, i) => {
    const px = regions[i]!.width * regions[i]!.height;
    se += px * 255 * 255 * 10 ** (-p / 10);
    n += px;
  });
  return 10 * Math.log10((255 * 255 * n) / se);
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The state on screen at time t (the last point at or before t). */
export function at(tl: Timeline, t: number): TimelinePoint {
  let p = tl.points[0]!;
  for (const q of tl.points) {
    if (q.t > t) break;
    p = q;
  }
  return p;
}

/** Mean of a score over [0, horizonMs), sampled every stepMs: the area under the curve divided by the horizon. */
export function meanOver(tl: Timeline, horizonMs: number, stepMs: number, f: (p: TimelinePoint) => number): number {
  let s = 0;
  let n = 0;
  for (let t = 0; t < horizonMs; t += stepMs, n++) s += f(at(tl, t));
  return s / n;
}

/** First time a condition holds on screen, or null. */
export function firstTime(tl: Timeline, f: (p: TimelinePoint) => boolean): number | null {
  return tl.points.find(f)?.t ?? null;
}
