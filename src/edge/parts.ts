// `GET /i/<key>.mrt?part=placeholder|final`: a part of the stream as a plain image response
// (src/format/parts.ts). Both are checked before they are sent: the Final message against its
// checksum (readFinal), each image's own header against the size the stream's header gives it
// (embeddedProblem), so that a hostile stored object costs a browser no more than its header says.
import { learnedEnd, readFinal, readFirstPaint, MrtFormatError, type MrtHeaderInfo } from '../format/index.ts';
import { embeddedProblem } from '../format/embedded.ts';
import { PART_HEADERS, formatSize, type MrtPart } from '../format/parts.ts';
import { CORS_HEADERS, STORED_OBJECT_HEADERS, noneMatch, problem, type Problem } from './http.ts';
import { CorruptObject, corruptProblem, type ObjectEntry } from './store.ts';
import { hasBody, type R2BucketLike } from './types.ts';

/** What a part needs of a stored stream: its header (parsed and its bytes), and a ranged read (null: the object changed). */
export interface PartSource {
  key: string;
  size: number;
  info: MrtHeaderInfo;
  headerBytes: Uint8Array;
  read(offset: number, length: number): Promise<Uint8Array | null>;
}

export interface Part {
  mime: string;
  body: Uint8Array;
  /** the X-MRT-* headers: the part, and the geometry a page needs to show it */
  headers: Record<string, string>;
}

/** The part's bytes and headers; a Problem for a stream without it or with a bad one; 'changed' when the object changed under the read. */
export async function readPart(part: MrtPart, src: PartSource): Promise<Part | Problem | 'changed'> {
  const { info } = src;
  const { header } = info;
  const first = readFirstPaint(src.headerBytes);
  const headers = {
    [PART_HEADERS.part]: part,
    [PART_HEADERS.size]: formatSize(header.width, header.height),
    [PART_HEADERS.imageSize]: formatSize(header.imageWidth, header.imageHeight),
    [PART_HEADERS.paddedSize]: formatSize(first.paddedWidth, first.paddedHeight),
    [PART_HEADERS.finalType]: header.final?.mime ?? 'none',
    'X-MRT-Total-Length': String(src.size),
  };
  if (part === 'placeholder') {
    const ph = first.placeholder;
    if (!ph) return problem(404, 'no-part', `'${src.key}' has no placeholder`);
    const bad = embeddedProblem(ph.bytes, ph.width, ph.height, 'placeholder');
    return bad ? corrupt(src.key, bad) : { mime: ph.mime, body: ph.bytes, headers };
  }
  if (!header.final || info.finalEnd === undefined) return problem(404, 'no-part', `'${src.key}' has no final layer`);
  const start = learnedEnd(info);
  const bytes = await src.read(start, info.finalEnd - start);
  if (!bytes) return 'changed';
  let data: Uint8Array;
  try {
    data = readFinal(info, src.headerBytes, bytes);
  } catch (e) {
    if (e instanceof MrtFormatError) return corrupt(src.key, e.message);
    throw e;
  }
  const bad = embeddedProblem(data, header.imageWidth, header.imageHeight, 'final layer');
  return bad ? corrupt(src.key, bad) : { mime: header.final.mime, body: data, headers };
}

/** The edge's response for a part of a stored object (URL-keyed: `cacheControl` as the whole stream's). */
export async function servePart(
  part: MrtPart,
  entry: ObjectEntry,
  bucket: R2BucketLike,
  req: Request,
  cacheControl: string,
): Promise<Response | Problem | 'changed'> {
  // (an ETag the client holds came with a 200 of this part: it exists, no need to read it again)
  const etag = `"${entry.contentId}.${part}"`;
  const base = { ...CORS_HEADERS, ...STORED_OBJECT_HEADERS, ETag: etag, 'Cache-Control': cacheControl };
  if (noneMatch(req.headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers: base });
  const p = await readPart(part, {
    ...entry,
    read: async (offset, length) => {
      const obj = await bucket.get(entry.key, { range: { offset, length }, onlyIf: { etagMatches: entry.r2etag } });
      return hasBody(obj) ? new Uint8Array(await new Response(obj.body).arrayBuffer()) : null;
    },
  });
  if (p === 'changed' || !('body' in p)) return p;
  const h = new Headers({ ...base, ...p.headers });
  h.set('Content-Type', p.mime);
  h.set('Content-Length', String(p.body.length));
  return new Response(req.method === 'HEAD' ? null : (p.body as Uint8Array<ArrayBuffer>), { status: 200, headers: h });
}

function corrupt(key: string, why: string): Problem {
  const e = new CorruptObject(key, why);
  console.error(`[mrt-edge] 409 ${e.message}`);
  return corruptProblem(e);
}
