// Encoder effort levels (1..9, like cjxl / avifenc / sharp): what each level spends its time on.
// 9 is the full closed loop (the decoder re-run every EARLY_LOOP.group layers, the placeholder's
// quality searched at libaom's slowest speed, the final at sharp's effort 4); lower levels cut
// what costs the most time for the least quality (docs/experiments.md "Encoder effort levels"
// has the profile and the measurements behind each row; bench/encode-speed.ts measures them).
import { EARLY_LOOP } from './tail-rdo.ts';

export interface EffortLevel {
  /**
   * Layers re-chosen per decoder run in the closed loop before the split (src/encoder/tail-rdo.ts;
   * the decoder is re-run before each group, ~40 ms for 768x512); 0: no loop before the split.
   */
  earlyGroup: number;
  /** Closed-loop passes over the tail (0: the tail keeps the encoder network's tokens). */
  tailPasses: number;
  /** sharp's AVIF effort (0..9) for the placeholder's encodes. */
  placeholderEffort: number;
  /**
   * How the placeholder's quality is searched: 'bisect' over 1..100 at placeholderEffort; 'bracket'
   * finds the quality at AVIF effort 3 (~10x faster at 48x32; the second AVIF format starting from
   * the first's) and then steps from it at placeholderEffort (2-3 encodes instead of 7-8; the same
   * quality whenever size grows with quality).
   */
  placeholderSearch: 'bisect' | 'bracket';
  /** sharp's AVIF effort (0..9) for an AVIF final. */
  finalEffort: number;
}

export const MIN_EFFORT = 1;
export const MAX_EFFORT = 9;

/**
 * The levels, 1..9. Kodak, every 3rd image, learned stream (bench/rd.ts's mrt-blank), each knob
 * alone against effort 9 (dB at 256 B / 512 B / 1 K / 2 K / 4 K / 8 K / whole file; CPU per
 * image without a final, 2026-12-07; docs/experiments.md): a decoder run per 8 layers +0.000 /
 * +0.000 / +0.007 / +0.002 / +0.002 / 0.000 / −0.001, −8 % CPU; per 16 −0.001 at 512 B, −0.007 at
 * 8 K, −18 %; per 32 −0.013 at 8 K; no loop before the split −0.116 at 8 K. Placeholder bracketed
 * at AVIF effort 9: the same bytes on all 8 images, −31 % CPU; at effort 7 −0.030 / −0.023 /
 * −0.018 / −0.012 / −0.005 / −0.001, −44 %; 6 −0.045 / −0.039; 5 −0.086 / −0.059. One tail pass:
 * whole file −0.110. The final at AVIF effort 4 / 3 / 2 / 1: 1570 / 337 / 161 / 106 ms for
 * 38.9 / 38.6 / 39.3 / 39.3 KB at quality 55 (6 Kodak images, one thread); but at the same
 * quality setting a lower effort is a worse image: at quality 50, efforts 2 / 3 / 4 give
 * kodim23 19,521 / 17,644 / 17,086 B at 36.73 / 37.02 / 37.20 dB, kodim05 45,103 / 45,099 /
 * 45,729 B at 30.52 / 30.86 / 31.31 dB (`npx tsx bench/avif-effort.ts`, 5 images: 0.2-0.8 dB
 * below effort 4). So from the default up the final is sharp's default AVIF (effort 4): exactly the
 * plain AVIF a site serves at that quality, which the learned chunks' cap is measured against.
 */
export const EFFORT_LEVELS: Readonly<Record<number, Readonly<EffortLevel>>> = {
  1: { earlyGroup: 0, tailPasses: 1, placeholderEffort: 3, placeholderSearch: 'bisect', finalEffort: 0 },
  2: { earlyGroup: 0, tailPasses: 2, placeholderEffort: 5, placeholderSearch: 'bracket', finalEffort: 1 },
  3: { earlyGroup: 32, tailPasses: 2, placeholderEffort: 5, placeholderSearch: 'bracket', finalEffort: 1 },
  4: { earlyGroup: 32, tailPasses: 2, placeholderEffort: 6, placeholderSearch: 'bracket', finalEffort: 2 },
  5: { earlyGroup: 16, tailPasses: 2, placeholderEffort: 7, placeholderSearch: 'bracket', finalEffort: 4 },
  6: { earlyGroup: 16, tailPasses: 2, placeholderEffort: 9, placeholderSearch: 'bracket', finalEffort: 4 },
  7: { earlyGroup: 8, tailPasses: 2, placeholderEffort: 9, placeholderSearch: 'bracket', finalEffort: 4 },
  8: { earlyGroup: EARLY_LOOP.group, tailPasses: 2, placeholderEffort: 9, placeholderSearch: 'bracket', finalEffort: 4 },
  9: { earlyGroup: EARLY_LOOP.group, tailPasses: 2, placeholderEffort: 9, placeholderSearch: 'bisect', finalEffort: 4 },
};

/**
 * The default: the fastest level whose cuts each cost <= 0.05 dB at every budget (the
 * placeholder's effort 7 the most, 0.03 dB at 256 B), with the final at sharp's default AVIF
 * effort. Its speed: bench/encode-speed.ts, bench/results/encode-speed.md (the 0.8 MP/s target
 * with two jobs, final included, is not met: the AVIF final alone takes ~1-1.6 s per Kodak image).
 */
export const DEFAULT_EFFORT = 5;

/** The level's settings; a RangeError for anything but an integer in MIN_EFFORT..MAX_EFFORT. */
export function effortLevel(effort: number): EffortLevel {
  if (!Number.isInteger(effort) || effort < MIN_EFFORT || effort > MAX_EFFORT) throw new RangeError(`effort must be an integer in ${MIN_EFFORT}..${MAX_EFFORT}, got ${effort}`);
  return EFFORT_LEVELS[effort]!;
}
