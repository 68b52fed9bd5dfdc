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

function avif(b: Uint8Array): EmbeddedSize | null {
  // every image spatial extent (ispe) in meta/iprp/ipco: the largest is what a decoder may allocate
  let width = 0;
  let height = 0;
  let found = false;
  for (const top of boxes(b, 0, b.length)) {
    if (top.type !== 'meta') continue;
    for (const m of boxes(b, top.at + 4, top.end)) {
      if (m.type !== 'iprp') continue;
      for (const p of boxes(b, m.at, m.end)) {
        if (p.type !== 'ipco') continue;
        for (const prop of boxes(b, p.at, p.end)) {
          if (prop.type !== 'ispe' || prop.end - prop.at < 12) continue;
          found = true;
          width = Math.max(width, u32be(b, prop.at + 4));
          height = Math.max(height, u32be(b, prop.at + 8));
        }
      }
    }
  }
  return found ? { format: 'avif', width, height } : null;
}

/** The format and size an embedded image's own header claims, or why it is refused (a predicate: "is not …", "has …"). */
export function embeddedSize(b: Uint8Array): EmbeddedSize | string {
  let r: EmbeddedSize | null = null;
  if (b.length >= 8 && u32be(b, 0) === 0x89504e47 && u32be(b, 4) === 0x0d0a1a0a) r = png(b);
  else if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) r = jpeg(b);
  else if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') r = webp(b);
  else if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) r = gif(b);
  else if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp') r = avif(b);
  else return 'is not an image format a stream may embed (JPEG, PNG, WebP, AVIF, GIF)';
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
