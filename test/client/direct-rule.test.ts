// When a warm visit skips the learned paints: the final layer is expected within FINAL_SOON_MS
// on the link the browser reports (src/client/direct-rule.ts finalSoon).
import { describe, expect, it } from 'vitest';
import { finalSoon } from '../../src/client/direct-rule.ts';

const hero = { width: 768, height: 512 };

describe('finalSoon', () => {
  it('a 768x512 image on the visitor benchmark links: soon at 10 and 1.6 Mbit/s (4g), not at 0.5 Mbit/s or on 3g', () => {
    expect(finalSoon({ ect: '4g', downlinkMbps: 10, rttMs: 50, dpr: 1 }, hero)).toBe(true);
    expect(finalSoon({ ect: '4g', downlinkMbps: 1.6, rttMs: 150, dpr: 1 }, hero)).toBe(true);
    expect(finalSoon({ ect: '4g', downlinkMbps: 0.5, rttMs: 300, dpr: 1 }, hero)).toBe(false);
    expect(finalSoon({ ect: '3g', downlinkMbps: 10, rttMs: 50, dpr: 1 }, hero)).toBe(false);
  });

  it('the displayed size in device pixels counts: the same box at DPR 3 is nine times the bytes', () => {
    expect(finalSoon({ ect: '4g', downlinkMbps: 1.6, rttMs: 150, dpr: 1 }, hero)).toBe(true);
    expect(finalSoon({ ect: '4g', downlinkMbps: 1.6, rttMs: 150, dpr: 3 }, hero)).toBe(false);
    // without a box, the width alone (3:4 assumed)
    expect(finalSoon({ ect: '4g', downlinkMbps: 10, rttMs: 50, widthPx: 768 })).toBe(true);
    expect(finalSoon({ ect: '4g', downlinkMbps: 10, rttMs: 50, widthPx: 4000 })).toBe(false);
  });

  it('never without a measured link, under Save-Data, or without a size', () => {
    expect(finalSoon(undefined, hero)).toBe(false);
    expect(finalSoon({ ect: '4g', rttMs: 50 }, hero)).toBe(false);
    expect(finalSoon({ ect: '4g', downlinkMbps: 10, rttMs: 50, saveData: true }, hero)).toBe(false);
    expect(finalSoon({ ect: '4g', downlinkMbps: 10, rttMs: 50 })).toBe(false);
  });
});
