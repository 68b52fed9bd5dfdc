// The native placeholder alone on Kodak: WebP vs AVIF (stored as its AV1 bitstream, format
// 2.3) within the same stored bytes, through the encoder's own placeholder code
// (src/encoder/placeholder.ts), Lanczos-upscaled to full size as the bar's thumbnails are.
//
//   npx tsx bench/placeholder.ts [--bytes 221]
//
// Kodak images are a whole number of 32-px windows, so the padded image is the image.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import sharp from 'sharp';
import { av1StillPayload } from '../src/format/index.ts';
import { makePlaceholder, type PlaceholderFormat } from '../src/encoder/placeholder.ts';
import { KODAK_DIR, kodakImages, loadRgb, meanBy } from './lib/kodak.ts';
import { psnr } from './lib/metrics.ts';

const { values } = parseArgs({ options: { bytes: { type: 'string', default: '221' } } });
const maxBytes = Number(values.bytes);
const rows: { img: string; fmt: string; stored: number; psnr: number }[] = [];
for (const img of kodakImages()) {
  const src = await loadRgb(join(KODAK_DIR, img));
  const px = new Uint8Array(src.data.buffer, src.data.byteOffset, src.data.byteLength);
  for (const fmt of ['webp', 'avif', 'auto'] as PlaceholderFormat[]) {
    const ph = await makePlaceholder(px, src.width, src.height, src.width / 16, src.height / 16, maxBytes, fmt);
    const up = await sharp(ph.rgb, { raw: { width: ph.width, height: ph.height, channels: 3 } }).resize(src.width, src.height, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
    const stored = ph.mime === 'image/avif' ? (av1StillPayload(ph.bytes, ph.width, ph.height)?.payload.length ?? ph.bytes.length) : ph.bytes.length;
    rows.push({ img, fmt: fmt === 'auto' ? `auto (${ph.mime})` : fmt, stored, psnr: psnr(up, src.data) });
  }
}
console.log(`placeholder at 1/16 scale, stored bytes <= ${maxBytes}, Lanczos x16 to full size; mean over ${kodakImages().length} Kodak images`);
for (const f of ['webp', 'avif', 'auto']) {
  const r = rows.filter((x) => x.fmt.startsWith(f));
  const avifPicked = r.filter((x) => x.fmt.includes('avif')).length;
  console.log(`${f.padEnd(5)} PSNR ${meanBy(r, (x) => x.psnr).toFixed(2)} dB, stored ${meanBy(r, (x) => x.stored).toFixed(0)} B${f === 'auto' ? ` (AVIF chosen for ${avifPicked} of ${r.length})` : ''}`);
}
