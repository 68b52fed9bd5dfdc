// The Kodak evaluation set and the byte budgets of the bar (issue 6).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const KODAK_DIR = fileURLToPath(new URL('../../../shared/data/kodak/', import.meta.url));
export const BUDGETS = [256, 512, 1024, 2048, 4096, 8192];

export interface Rgb {
  width: number;
  height: number;
  data: Buffer;
}

export function kodakImages(): string[] {
  return readdirSync(KODAK_DIR).filter((f) => /^kodim\d\d\.png$/.test(f)).sort();
}

export async function loadRgb(path: string): Promise<Rgb> {
  const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

export function meanBy<T>(xs: T[], f: (x: T) => number): number {
  return xs.reduce((s, x) => s + f(x), 0) / xs.length;
}
