// Images inside a stream (the placeholder, the final layer) are decoded by the browser, which
// allocates whatever size the image's own header claims: a 31 KB PNG can claim 16000x16000
// (1 GB of RGBA). So the size is read from that header first, and an image that is not the
// size the stream's header gives it, or not a raster format a stream may embed (JPEG, PNG,
// WebP, AVIF, GIF: an SVG of the right size can cost any time to render), is refused before
// any pixel is decoded; the decoded bitmap is checked again (docs/design.md, Limits).

export type EmbeddedFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'avif';

export interface EmbeddedSize {
  format: EmbeddedFormat;
  width: number;
  height: number;
}

function u16be(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function u32be(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function u16le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u24le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
}
function ascii(b: Uint8Array, o: number, n: number): string {
  return String.fromCharCode(...b.subarray(o, o + n));
}

function png(b: Uint8Array): EmbeddedSize | null {
  if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return null;
  return { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
}

function gif(b: Uint8Array): EmbeddedSize | null {
  // the logical screen: frames are clipped to it
  if (b.length < 10) return null;
  return { format: 'gif', width: u16le(b, 6), height: u16le(b, 8) };
}

function jpeg(b: Uint8Array): EmbeddedSize | null {
  // the first start-of-frame marker (SOF0-15 but DHT C4, JPG C8, DAC CC)
  let o = 2;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return null;
    const marker = b[o + 1]!;
    if (marker === 0xff) {
      o++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2;
      continue;
    }
    const len = u16be(b, o + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (o + 9 > b.length) return null;
      return { format: 'jpeg', width: u16be(b, o + 7), height: u16be(b, o + 5) };
    }
    if (marker === 0xda || marker === 0xd9 || len < 2) return null;
    o += 2 + len;
  }
  return null;
}

function webp(b: Uint8Array): EmbeddedSize | null {
  if (b.length < 30) return null;
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ') {
    // keyframe start code, then 14-bit sizes (2 bits of scaling above them)
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return null;
    const v = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
    return { format: 'webp', width: (v & 0x3fff) + 1, height: ((v >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  return null;
}

/** ISOBMFF boxes of b[start, end): type and content range. */
function* boxes(b: Uint8Array, start: number, end: number): Generator<{ type: string; at: number; end: number }> {
  let o = start;
  while (o + 8 <= end) {
    let size = u32be(b, o);
    const type = ascii(b, o + 4, 4);
    let at = o + 8;
    if (size === 1) {
      if (o + 16 > end || u32be(b, o + 8) !== 0) return; // a box past 4 GB in an embedded image
      size = u32be(b, o + 12);
      at = o + 16;
    } else if (size === 0) {
      size = end - o;
    }
    if (size < at - o || o + size > end) return;
    yield { type, at, end: o + size };
    o += size;
  }
}

/** Reads bits MSB first (AV1 headers). */
class Bits {
  private pos = 0;
  constructor(private readonly b: Uint8Array, private readonly start: number, private readonly end: number) {}
  f(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.start + (this.pos >> 3);
      if (byte >= this.end) throw new RangeError('AV1 header ends early');
      v = v * 2 + ((this.b[byte]! >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }
  uvlc(): number {
    let zeros = 0;
    while (!this.f(1)) if (++zeros >= 32) throw new RangeError('AV1 uvlc too long');
    return this.f(zeros);
  }
}

/** max_frame_width/height of an AV1 sequence header OBU payload (AV1 spec 5.5). */
function av1SequenceSize(b: Uint8Array, start: number, end: number): [number, number] {
  const r = new Bits(b, start, end);
  r.f(3); // seq_profile
  r.f(1); // still_picture
  if (r.f(1)) {
    r.f(5); // reduced_still_picture_header: seq_level_idx[0]
  } else {
    let decoderModelInfo = 0;
    let bufferDelayLength = 0;
    if (r.f(1)) {
      // timing_info
      r.f(32);
      r.f(32);
      if (r.f(1)) r.uvlc();
      decoderModelInfo = r.f(1);
      if (decoderModelInfo) {
        bufferDelayLength = r.f(5) + 1;
        r.f(32);
        r.f(5);
        r.f(5);
      }
    }
    const initialDisplayDelay = r.f(1);
    const ops = r.f(5) + 1;
    for (let i = 0; i < ops; i++) {
      r.f(12);
      if (r.f(5) > 7) r.f(1);
      if (decoderModelInfo && r.f(1)) {
        r.f(bufferDelayLength);
        r.f(bufferDelayLength);
        r.f(1);
      }
      if (initialDisplayDelay && r.f(1)) r.f(4);
    }
  }
  const wBits = r.f(4) + 1;
  const hBits = r.f(4) + 1;
  return [r.f(wBits) + 1, r.f(hBits) + 1];
}

function leb128(b: Uint8Array, o: number, end: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    if (o + i >= end) throw new RangeError('AV1 OBU size ends early');
    const byte = b[o + i]!;
    v += (byte & 0x7f) * 2 ** (7 * i);
    if (!(byte & 0x80)) return [v, o + i + 1];
  }
  throw new RangeError('AV1 OBU size too long');
}

/** The largest frame size any AV1 sequence header in b[start, end) (a run of OBUs) allows; throws when it is not one. */
function av1MaxFrame(b: Uint8Array, start: number, end: number, into: { w: number; h: number; headers: number }): void {
  let o = start;
  while (o < end) {
    const h = b[o]!;
    if (h & 0x80) throw new RangeError('AV1 OBU forbidden bit set');
    const type = (h >> 3) & 15;
    let p = o + 1 + ((h >> 2) & 1); // extension byte
    let size = end - p;
    if (h & 2) [size, p] = leb128(b, p, end);
    if (p + size > end) throw new RangeError('AV1 OBU runs past its box');
    if (type === 1) {
      const [w, hh] = av1SequenceSize(b, p, p + size);
      into.w = Math.max(into.w, w);
      into.h = Math.max(into.h, hh);
      into.headers++;
    }
    o = p + size;
  }
}

/**
 * AVIF: the largest of every image spatial extent (ispe) and of the frame size every AV1
 * sequence header allows (dav1d allocates that, whatever ispe says): in av1C, idat and every
 * top-level box but ftyp and meta (mdat, where the items' data is). Data there that is not a
 * run of AV1 OBUs is refused: the size of what the decoder would read could not be told.
 */
function avif(b: Uint8Array): EmbeddedSize | null {
  const size = { w: 0, h: 0, headers: 0 };
  let ispe = false;
  const meta = (start: number, end: number, depth: number): void => {
    for (const x of boxes(b, start, end)) {
      if (x.type === 'iprp' || x.type === 'ipco') meta(x.at, x.end, depth + 1);
      else if (x.type === 'ispe' && x.end - x.at >= 12) {
        ispe = true;
        size.w = Math.max(size.w, u32be(b, x.at + 4));
        size.h = Math.max(size.h, u32be(b, x.at + 8));
      } else if (x.type === 'av1C' && x.end - x.at >= 4) av1MaxFrame(b, x.at + 4, x.end, size);
      else if (x.type === 'idat') av1MaxFrame(b, x.at, x.end, size);
    }
  };
  try {
    for (const top of boxes(b, 0, b.length)) {
      if (top.type === 'ftyp') continue;
      if (top.type === 'meta') meta(top.at + 4, top.end, 0);
      else av1MaxFrame(b, top.at, top.end, size);
    }
  } catch {
    return null;
  }
  return ispe && size.headers ? { format: 'avif', width: size.w, height: size.h } : null;
}

/** Why bytes that no embeddable format recognises are refused (never handed to a decoder). */
export const NOT_AN_IMAGE = 'is not an image format a stream may embed (JPEG, PNG, WebP, AVIF, GIF)';

/** The format and size an embedded image's own header claims, or why it is refused (a predicate: "is not …", "has …"). */
export function embeddedSize(b: Uint8Array): EmbeddedSize | string {
  let r: EmbeddedSize | null = null;
  if (b.length >= 8 && u32be(b, 0) === 0x89504e47 && u32be(b, 4) === 0x0d0a1a0a) r = png(b);
  else if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) r = jpeg(b);
  else if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') r = webp(b);
  else if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) r = gif(b);
  else if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp') r = avif(b);
  else return NOT_AN_IMAGE;
  return r ?? 'has a header that does not give its size';
}

/** Why the embedded `what` is refused (not a raster format, or not `width` x `height`), or null. */
export function embeddedProblem(b: Uint8Array, width: number, height: number, what: string): string | null {
  const s = embeddedSize(b);
  if (typeof s === 'string') return `the ${what} ${s}`;
  if (s.width !== width || s.height !== height) return `the ${what} is ${s.width}x${s.height}, the header says ${width}x${height}`;
  return null;
}

/** After decoding: the same check on the bitmap (a header that told one size and decoded to another). */
export function decodedProblem(bitmap: { width: number; height: number }, width: number, height: number, what: string): string | null {
  if (bitmap.width === width && bitmap.height === height) return null;
  return `the ${what} decoded to ${bitmap.width}x${bitmap.height}, the header says ${width}x${height}`;
}
