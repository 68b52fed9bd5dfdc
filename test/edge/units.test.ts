// Pure helpers of src/edge/http.ts, table-driven.
import { describe, expect, it } from 'vitest';
import { ifRangeMatches, isContentAddressed, noneMatch, parseKey, parseRange } from '../../src/edge/http.ts';

describe('parseRange (length 100)', () => {
  const ok: [string, number, number][] = [
    ['bytes=0-0', 0, 0],
    ['bytes=0-99', 0, 99],
    ['bytes=10-', 10, 99],
    ['bytes=-1', 99, 99],
    ['bytes=-100', 0, 99],
    ['bytes=-1000', 0, 99],
    ['bytes=50-5000', 50, 99],
    ['BYTES = 1 - 2', 1, 2],
  ];
  for (const [h, a, b] of ok) it(`${h} → ${a}-${b}`, () => expect(parseRange(h, 100)).toEqual({ start: a, end: b }));
  for (const h of ['bytes=100-', 'bytes=100-200', 'bytes=-0', 'bytes=5-4', 'bytes=x', 'bytes=-', 'bytes', 'bytes=1.5-2', 'bytes=,', 'bytes=100-,200-300', 'bytes=0-1,x', 'bytes=0-1,5-4', `bytes=${'9'.repeat(17)}-`, `bytes=${'9'.repeat(17)}-${'9'.repeat(18)}`]) {
    it(`${h} → 416`, () => expect(parseRange(h, 100)).toMatchObject({ status: 416, headers: { 'Content-Range': 'bytes */100' } }));
  }
  // an end past the object is its end, however many digits it has (16 digits gave 206, 17 gave 416)
  for (const digits of [16, 17, 30, 400]) {
    it(`an end of ${digits} digits → to the end`, () => expect(parseRange(`bytes=10-${'9'.repeat(digits)}`, 100)).toEqual({ start: 10, end: 99 }));
    it(`a suffix of ${digits} digits → everything`, () => expect(parseRange(`bytes=-${'9'.repeat(digits)}`, 100)).toEqual({ start: 0, end: 99 }));
  }
  it('absent or other units → null (ignored)', () => {
    expect(parseRange(null, 100)).toBeNull();
    expect(parseRange('items=0-1', 100)).toBeNull();
  });
  it('several ranges, one satisfiable → null (the whole representation); one range among empty list elements → that range', () => {
    expect(parseRange('bytes=0-1,3-4', 100)).toBeNull();
    expect(parseRange('bytes=0-1, 200-300', 100)).toBeNull();
    expect(parseRange('bytes=-5,0-0', 100)).toBeNull();
    expect(parseRange('bytes=, 3-4 ,', 100)).toEqual({ start: 3, end: 4 });
  });
});

describe('parseKey', () => {
  it('accepts nested keys and decodes them', () => {
    expect(parseKey('a/b%20c.mrt')).toEqual({ key: 'a/b c.mrt' });
    expect(parseKey('%E2%9C%93.mrt')).toEqual({ key: '✓.mrt' });
  });
  for (const raw of ['../x.mrt', 'a/../x.mrt', './x.mrt', 'a/%2E%2E/x.mrt', 'a%2Fb.mrt', 'a\\b.mrt', 'a%09.mrt', '/x.mrt', 'a/', 'x'.repeat(1021) + '.mrt']) {
    it(`rejects ${raw.slice(0, 30)}`, () => expect(parseKey(raw)).toMatchObject({ status: 400, error: 'bad-key' }));
  }
  it('non-.mrt → 404', () => expect(parseKey('a.png')).toMatchObject({ status: 404 }));
});

describe('validators', () => {
  it('If-None-Match uses weak comparison; If-Range strong', () => {
    expect(noneMatch('W/"a"', '"a"')).toBe(true);
    expect(noneMatch('"b", "a"', '"a"')).toBe(true);
    expect(noneMatch('"b"', '"a"')).toBe(false);
    expect(ifRangeMatches('"a"', '"a"')).toBe(true);
    expect(ifRangeMatches('W/"a"', '"a"')).toBe(false);
    expect(ifRangeMatches('Wed, 21 Oct 2015 07:28:00 GMT', '"a"')).toBe(false);
  });
  it('content-addressed key rule', () => {
    expect(isContentAddressed('kodim01.3f2a9c1d.mrt')).toBe(true);
    expect(isContentAddressed('p/0123456789abcdef.mrt')).toBe(true);
    expect(isContentAddressed('kodim01.mrt')).toBe(false);
    expect(isContentAddressed('photo-20240101.mrt')).toBe(false);
    expect(isContentAddressed('a.3f2a9c.mrt')).toBe(false);
  });
});
