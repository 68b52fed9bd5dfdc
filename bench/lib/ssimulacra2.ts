// SSIMULACRA 2.1 scores through the reference binary, built by scripts/build-metrics.sh from
// ../shared/metrics/ssimulacra2 (MRT_SSIMULACRA2 names another binary).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const BUILT = fileURLToPath(new URL('../../.cache/metrics/ssimulacra2/ssimulacra2', import.meta.url));

/** Path of the ssimulacra2 binary, or an error that says how to get it. */
export function ssimulacra2Binary(): string {
  const p = process.env.MRT_SSIMULACRA2 || BUILT;
  if (!existsSync(p)) throw new Error(`ssimulacra2 not found at ${p}: run \`bash scripts/build-metrics.sh\` (or npm run setup:test), or set MRT_SSIMULACRA2`);
  return p;
}

export interface RgbLike {
  width: number;
  height: number;
  /** interleaved 8-bit RGB */
  data: Uint8Array;
}

/** Scores distorted images against one reference (higher is better, 100 = identical). */
export class Ssimulacra2 {
  private dir: Promise<string> = mkdtemp(join(tmpdir(), 'mrt-ssim2-'));
  private ref: Promise<string> | null = null;
  private n = 0;
  private readonly bin = ssimulacra2Binary();

  constructor(private readonly reference: RgbLike) {}

  private async png(img: RgbLike, name: string): Promise<string> {
    const p = join(await this.dir, name);
    await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png({ compressionLevel: 1 }).toFile(p);
    return p;
  }

  async score(img: RgbLike): Promise<number> {
    if (img.width !== this.reference.width || img.height !== this.reference.height) {
      throw new Error(`ssimulacra2: ${img.width}x${img.height} against a ${this.reference.width}x${this.reference.height} reference`);
    }
    this.ref ??= this.png(this.reference, 'ref.png');
    const ref = await this.ref;
    const dist = await this.png(img, `d${this.n++}.png`);
    const out = await new Promise<string>((ok, fail) =>
      execFile(this.bin, [ref, dist], (e, so, se) => (e ? fail(new Error(`ssimulacra2 failed: ${se || e.message}`)) : ok(so))),
    );
    await rm(dist, { force: true });
    const v = parseFloat(out.trim().split(/\s+/).pop() ?? '');
    if (!Number.isFinite(v)) throw new Error(`ssimulacra2: unexpected output ${JSON.stringify(out)}`);
    return v;
  }

  async close(): Promise<void> {
    await rm(await this.dir, { recursive: true, force: true });
  }
}
