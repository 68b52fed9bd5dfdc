// MrtParser's memory: a message that arrives whole in one push is not copied (a caller that
// holds a whole stream, like the edge's PUT, holds it once); one that arrives in pieces is.
import { describe, expect, it } from 'vitest';
import { MrtParser, parseMrt, type MrtEvent } from '../../src/format/index.ts';
import { syntheticStream } from './helpers.ts';

const s = syntheticStream({ width: 256, height: 192, T: 16, layersPerChunk: 4, framing: 'raw', placeholderBytes: 100, finalBytes: 5000 });

function payloads(ev: MrtEvent[]): Uint8Array[] {
  return ev.flatMap((e) => (e.type === 'chunk' ? [e.payload] : e.type === 'final' ? [e.bytes] : []));
}

describe('MrtParser', () => {
  it('delivers chunks and the final layer of a whole stream as views of the pushed bytes', () => {
    const got = payloads(parseMrt(s.bytes));
    expect(got.length).toBe(s.chunks.length + 1);
    for (const p of got) expect(p.buffer).toBe(s.bytes.buffer);
    expect([...got.at(-1)!]).toEqual([...s.final!.bytes]);
  });

  it('copies a message that arrives in pieces, and the pieces may be reused after the push', () => {
    const p = new MrtParser();
    const ev: MrtEvent[] = [];
    const piece = new Uint8Array(7);
    for (let i = 0; i < s.bytes.length; i += piece.length) {
      const n = Math.min(piece.length, s.bytes.length - i);
      piece.set(s.bytes.subarray(i, i + n));
      ev.push(...p.push(piece.subarray(0, n)).map((e) => (e.type === 'partial' ? { ...e, payload: e.payload.slice() } : e)));
      piece.fill(0xee);
    }
    ev.push(...p.end());
    expect(ev.at(-1)).toMatchObject({ type: 'end', complete: true });
    const got = payloads(ev);
    for (const [k, c] of s.chunks.entries()) expect([...got[k]!]).toEqual([...c.payload]);
    expect([...got.at(-1)!]).toEqual([...s.final!.bytes]);
  });
});
