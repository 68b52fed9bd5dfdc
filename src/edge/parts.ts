// `GET /i/<key>.mrt?part=placeholder|final`: a part of the stream as a plain image response
// (src/format/parts.ts). Both are checked before they are sent: the Final message against its
// checksum (readFinal), each image's own header against the size the stream's header gives it
// (embeddedProblem), so that a hostile stored object costs a browser no more than its header says.
import { learnedEnd, readFinal, readFirstPaint, MrtFormatError } from '../format/index.ts';
import { embeddedProblem } from '../format/embedded.ts';
import { PART_HEADERS, formatSize, type MrtPart } from '../format/parts.ts';
import { CORS_HEADERS, STORED_OBJECT_HEADERS, noneMatch, problem, type Problem } from './http.ts';
import { CorruptObject, corruptProblem, type ObjectEntry } from './store.ts';
import { hasBody, type R2BucketLike } from './types.ts';

export type PartResult = Response | Problem | 'changed';

/** The part's response; a Problem for a stream without it or with a bad one; 'changed' when the object changed under the read. */
export async function servePart(
  part: MrtPart,
  entry: ObjectEntry,
  bucket: R2BucketLike,
  req: Request,
  cacheControl: string,
): Promise<PartResult> {
  const { info } = entry;
  const { header } = info;
  const first = readFirstPaint(entry.headerBytes);
  const h = new Headers(CORS_HEADERS);
  for (const [n, v] of Object.entries(STORED_OBJECT_HEADERS)) h.set(n, v);
  h.set('Cache-Control', cacheControl);
  h.set(PART_HEADERS.part, part);
  h.set(PART_HEADERS.size, formatSize(header.width, header.height));
  h.set(PART_HEADERS.imageSize, formatSize(header.imageWidth, header.imageHeight));
  h.set(PART_HEADERS.paddedSize, formatSize(first.paddedWidth, first.paddedHeight));
  h.set(PART_HEADERS.finalType, header.final?.mime ?? 'none');
  h.set('X-MRT-Total-Length', String(entry.size));
  const etag = `"${entry.contentId}.${part}"`;
  h.set('ETag', etag);

  let mime: string;
  let body: Uint8Array | null = null;
  if (part === 'placeholder') {
    const ph = first.placeholder;
    if (!ph) return problem(404, 'no-part', `'${entry.key}' has no placeholder`);
    const bad = embeddedProblem(ph.bytes, ph.width, ph.height, 'placeholder');
    if (bad) return corrupt(entry, bad);
    mime = ph.mime;
    body = ph.bytes;
  } else {
    if (!header.final || info.finalEnd === undefined) return problem(404, 'no-part', `'${entry.key}' has no final layer`);
    mime = header.final.mime;
  }
  h.set('Content-Type', mime);
  if (noneMatch(req.headers.get('if-none-match'), etag)) {
    h.delete('Content-Type');
    return new Response(null, { status: 304, headers: h });
  }
  if (!body) {
    const start = learnedEnd(info);
    const obj = await bucket.get(entry.key, { range: { offset: start, length: info.finalEnd! - start }, onlyIf: { etagMatches: entry.r2etag } });
    if (!hasBody(obj)) return 'changed';
    let data: Uint8Array;
    try {
      data = readFinal(info, entry.headerBytes, new Uint8Array(await new Response(obj.body).arrayBuffer()));
    } catch (e) {
      if (e instanceof MrtFormatError) return corrupt(entry, e.message);
      throw e;
    }
    const bad = embeddedProblem(data, header.imageWidth, header.imageHeight, 'final layer');
    if (bad) return corrupt(entry, bad);
    body = data;
  }
  h.set('Content-Length', String(body.length));
  return new Response(req.method === 'HEAD' ? null : (body as Uint8Array<ArrayBuffer>), { status: 200, headers: h });
}

function corrupt(entry: ObjectEntry, why: string): Problem {
  const e = new CorruptObject(entry.key, why);
  console.error(`[mrt-edge] 409 ${e.message}`);
  return corruptProblem(e);
}
