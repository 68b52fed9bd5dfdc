// Shared fuzz harness (CI test: test/format/fuzz.test.ts; long run: bench/fuzz.ts).
// Mutates valid streams and checks: only MrtFormatError, no hang, and every token that
// was delivered before an error equals the true token.
import { concatBytes } from '../../src/format/bytes.ts';
import { StreamDecoder, tokenProgress, type RcmWeights } from '../../src/codec/index.ts';
import { MrtFormatError, readHeader } from '../../src/format/index.ts';
import { varintSize } from '../../src/format/varint.ts';
import { fakeRcm, rng } from '../codec/fixtures.ts';
import { syntheticStream } from './helpers.ts';

export interface Base {
  name: string;
  bytes: Uint8Array;
  tokens: Uint8Array;
  rcm: RcmWeights | null;
  /** message boundaries: [start, end) of preamble, header, index, chunks, final */
  messages: [number, number][];
}

export function makeBases(): Base[] {
  // (with a coarse RCM: the 2.10 base codes its coarse pass with it)
  const rcm = { ...fakeRcm(11, { D: 4, H: 6, L: 9, T: 8 }), coarse: fakeRcm(12, { D: 3, H: 4, L: 3, T: 4 }) };
  const specs = [
    { name: 'static', o: { width: 96, height: 64, T: 8, seed: 1 } },
    { name: 'static+ph+final', o: { width: 70, height: 50, T: 8, seed: 2, placeholderBytes: 24, finalBytes: 30, contentHash: true } },
    { name: 'rcm', o: { width: 96, height: 96, T: 8, seed: 3, rcm } },
    { name: 'rcm+final+2layers', o: { width: 128, height: 64, T: 8, seed: 4, rcm, finalBytes: 20, layersPerChunk: 2 } },
    { name: 'static-partial', o: { width: 64, height: 64, T: 8, seed: 5, layers: 5 } },
    { name: 'rcm+layer-chunks(2.1)', o: { width: 96, height: 64, T: 8, seed: 6, rcm, layers: 7, chunkLayers: [1, 1, 2, 3] } },
    { name: 'rcm+rule+chained(2.2)', o: { width: 96, height: 64, T: 20, seed: 7, rcm, chunkLayers: 'auto' as const, coder: 'chained' as const, hashBytes: 8, placeholderBytes: 16 } },
    { name: 'coarse-first+coarse RCM(2.10)', o: { width: 96, height: 64, T: 20, seed: 9, rcm, coarseLayers: 6, sharedLate: true, lateContexts: true, coarseRcm: true, chunkLayers: 'auto' as const, coder: 'chained' as const, framing: 'raw' as const, hashBytes: 4, placeholderBytes: 16 } },
    { name: 'raw chunks(2.4)+final', o: { width: 96, height: 64, T: 20, seed: 8, rcm, chunkLayers: 'auto' as const, coder: 'chained' as const, framing: 'raw' as const, hashBytes: 8, placeholderBytes: 16, finalBytes: 24 } },
  ];
  return specs.map(({ name, o }) => {
    const s = syntheticStream(o);
    const messages = messageSpans(s.bytes);
    const tokens = new Uint8Array(s.layout.total);
    tokens.set(s.tokens);
    return { name, bytes: s.bytes, tokens, rcm: (o as any).rcm ?? null, messages };
  });
}

/** [start, end) of each message of a valid stream: preamble, first paint, Index, chunks, final. */
export function messageSpans(bytes: Uint8Array): [number, number][] {
  const info = readHeader(bytes);
  const messages: [number, number][] = [[0, 5], [5, info.firstPaintEnd], [info.firstPaintEnd, info.headerEnd]];
  let prev = info.headerEnd;
  for (const e of info.chunkEnds) {
    messages.push([prev, e]);
    prev = e;
  }
  if (info.finalEnd) messages.push([prev, info.finalEnd]);
  return messages;
}

/** One fuzz case: 1-4 mutations of a base (sometimes splicing in another base's messages). */
export function mutateCase(base: Base, other: Base, r: () => number): Uint8Array {
  let b = base.bytes;
  const k = 1 + Math.floor(r() * r() * 4);
  for (let j = 0; j < k; j++) b = mutate(b, base, other, r);
  return b;
}

const HUGE = [
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x80, 0x80, 0x80, 0x80, 0x80],
  [0xff, 0xff, 0x7f],
  [0x80, 0x80, 0x40],
];

/** One mutation of `b`. */
export function mutate(b: Uint8Array, base: Base, other: Base, r: () => number): Uint8Array {
  const n = b.length;
  const at = () => Math.floor(r() * (n + 1));
  const msg = () => base.messages[Math.floor(r() * base.messages.length)]!;
  switch (Math.floor(r() * 11)) {
    case 0: {
      // bit flips
      const c = b.slice();
      const k = 1 + Math.floor(r() * 3);
      for (let i = 0; i < k && n; i++) {
        const p = Math.floor(r() * n);
        c[p]! ^= 1 << Math.floor(r() * 8);
      }
      return c;
    }
    case 1: {
      const c = b.slice();
      if (n) c[Math.floor(r() * n)] = Math.floor(r() * 256);
      return c;
    }
    case 2:
      return b.slice(0, at());
    case 3: {
      // insert random bytes
      const p = at();
      const ins = Uint8Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256));
      return concatBytes(b.subarray(0, p), ins, b.subarray(p));
    }
    case 4: {
      // delete a range
      const p = at();
      const q = Math.min(n, p + 1 + Math.floor(r() * 16));
      return concatBytes(b.subarray(0, p), b.subarray(q));
    }
    case 5: {
      // splice a segment of another stream
      const o = other.bytes;
      const s = Math.floor(r() * o.length);
      const e = Math.min(o.length, s + 1 + Math.floor(r() * 64));
      const p = at();
      const q = r() < 0.5 ? p : Math.min(n, p + (e - s));
      return concatBytes(b.subarray(0, p), o.subarray(s, e), b.subarray(q));
    }
    case 6: {
      // swap two messages (of the original layout)
      const m = base.messages;
      if (m.length < 4) return b.slice();
      const i = 1 + Math.floor(r() * (m.length - 1));
      const j = 1 + Math.floor(r() * (m.length - 1));
      const [a, c] = i < j ? [m[i]!, m[j]!] : [m[j]!, m[i]!];
      if (a === c) return b.slice();
      return concatBytes(b.subarray(0, a[0]), b.subarray(c[0], c[1]), b.subarray(a[1], c[0]), b.subarray(a[0], a[1]), b.subarray(c[1]));
    }
    case 7: {
      // duplicate or drop a message
      const [s, e] = msg();
      return r() < 0.5 ? concatBytes(b.subarray(0, e), b.subarray(s, e), b.subarray(e)) : concatBytes(b.subarray(0, s), b.subarray(e));
    }
    case 8: {
      // huge / over-long length prefix at a message start
      const [s] = msg();
      const h = Uint8Array.from(HUGE[Math.floor(r() * HUGE.length)]!);
      const len = s + 1 <= n ? varintSize(b[s]! < 128 ? b[s]! : 200) : 0;
      return concatBytes(b.subarray(0, s), h, b.subarray(Math.min(n, s + (r() < 0.5 ? len : 0))));
    }
    case 9: {
      // replace the header message, the index message or both by another stream's (same chunks)
      const which = Math.floor(r() * 3);
      const s = base.messages[which === 1 ? 2 : 1]![0];
      const e = base.messages[which === 0 ? 1 : 2]![1];
      const os = other.messages[which === 1 ? 2 : 1]![0];
      const oe = other.messages[which === 0 ? 1 : 2]![1];
      return concatBytes(b.subarray(0, s), other.bytes.subarray(os, oe), b.subarray(e));
    }
    default: {
      // random run of bytes
      const c = b.slice();
      const p = Math.floor(r() * n);
      const k = Math.min(n - p, 1 + Math.floor(r() * 12));
      for (let i = 0; i < k; i++) c[p + i] = Math.floor(r() * 256);
      return c;
    }
  }
}

export interface FuzzResult {
  cases: number;
  crashes: { case: number; base: string; error: string }[];
  hangs: number;
  wrongTokens: number;
  wrongCases: { case: number; base: string; bytes: Uint8Array; firstWrong: number; known: number }[];
  errors: Record<string, number>;
  complete: number;
  truncatedValid: number;
  maxCaseMs: number;
}

/** Run `cases` mutated streams. `hangMs`: a case slower than this counts as a hang. */
export function fuzz(cases: number, seed: number, hangMs = 2000, onProgress?: (done: number) => void): FuzzResult {
  const bases = makeBases();
  const r = rng(seed);
  const res: FuzzResult = { cases, crashes: [], hangs: 0, wrongTokens: 0, wrongCases: [], errors: {}, complete: 0, truncatedValid: 0, maxCaseMs: 0 };
  for (let c = 0; c < cases; c++) {
    const base = bases[c % bases.length]!;
    const other = bases[Math.floor(r() * bases.length)]!;
    const b = mutateCase(base, other, r);
    const t0 = performance.now();
    try {
      // the RCM option is always offered: a header claiming 'rcm' on a static base must still be safe
      const d = new StreamDecoder({ rcm: base.rcm ?? bases[2]!.rcm });
      let ended = false;
      const pieces = r() < 0.5 ? 1 : 1 + Math.floor(r() * 5);
      const step = Math.ceil(b.length / pieces) || 1;
      for (let i = 0; i < b.length; i += step) {
        for (const e of d.push(b.subarray(i, i + step))) {
          if (e.type === 'error') {
            res.errors[e.error.code] = (res.errors[e.error.code] ?? 0) + 1;
            if (!(e.error instanceof MrtFormatError)) throw e.error;
            ended = true;
          }
        }
      }
      for (const e of d.end()) {
        if (e.type === 'error') {
          res.errors[e.error.code] = (res.errors[e.error.code] ?? 0) + 1;
          ended = true;
        }
        if (e.type === 'end') {
          if (e.complete) res.complete++;
          else res.truncatedValid++;
          ended = true;
        }
      }
      if (!ended) throw new Error('no end or error event');
      // Delivered tokens must be the true ones. Mutations can assemble another base's valid
      // stream (its header and index, then its chunks), so the truth is the base whose header
      // and index bytes (what the chunk CRCs cover) are those of the mutated stream; tokens
      // under any other header/index need a CRC collision. The tokens of a chunk cut short
      // (raw framing) are provisional, unchecked until its checksum arrives: what must be
      // true is the checked prefix.
      const known = d.verified;
      let truth: Uint8Array | undefined;
      if (d.info) {
        for (const x of bases) {
          const s0 = x.messages[1]![0];
          const e0 = x.messages[2]![1];
          const xb = x.bytes.subarray(s0, e0);
          const hb2 = b.subarray(d.info.headerEnd - xb.length, d.info.headerEnd);
          if (hb2.length === xb.length && hb2.every((v, i) => v === xb[i])) truth = x.tokens;
        }
      }
      // (coarse-first: `known` counts stream symbols; of a token the checked symbols know only
      // by its coarse trit, that trit must be true: its refinement may be a provisional one)
      const p = d.layout?.coarseLayers ? tokenProgress(d.layout, known) : { exact: known, coarse: known };
      for (let i = 0; i < p.coarse; i++) {
        const ok = truth && (i < p.exact ? d.tokens[i] === truth[i] : Math.floor(d.tokens[i]! / 3) === Math.floor(truth[i]! / 3));
        if (!ok) {
          res.wrongTokens++;
          if (res.wrongCases.length < 10) res.wrongCases.push({ case: c, base: base.name, bytes: b, firstWrong: i, known });
          break;
        }
      }
    } catch (e) {
      if (res.crashes.length < 20) res.crashes.push({ case: c, base: base.name, error: String((e as Error)?.stack ?? e) });
      else res.crashes.length++;
    }
    const ms = performance.now() - t0;
    if (ms > res.maxCaseMs) res.maxCaseMs = ms;
    if (ms > hangMs) res.hangs++;
    if (onProgress && (c + 1) % 10000 === 0) onProgress(c + 1);
  }
  return res;
}
