// Seams and ringing along the codec's 32-px window grid: the mean absolute difference between
// neighbouring pixels across a window boundary, over the mean difference between neighbours
// everywhere else (horizontal and vertical neighbours, RGB channels averaged). A photo has no
// reason to change faster on the grid, so the original scores ~1; seams raise it, and so does
// ringing that lines up with the windows. The grid starts at the image's top-left corner (the
// padding is at the right and bottom, docs/design.md "Token layout").

export interface SeamStats {
  /** mean |difference| across window boundaries */
  boundary: number;
  /** mean |difference| between all other neighbours */
  elsewhere: number;
  /** boundary / elsewhere */
  ratio: number;
}

export function seamStats(px: ArrayLike<number>, width: number, height: number, window = 32, channels = 3): SeamStats {
  let bSum = 0, bN = 0, eSum = 0, eN = 0;
  const diff = (p: number, q: number) => Math.abs(px[p] - px[q]) + Math.abs(px[p + 1] - px[q + 1]) + Math.abs(px[p + 2] - px[q + 2]);
  const row = width * channels;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * row + x * channels;
      // the pair (x, x+1) crosses a boundary when x+1 starts a window; the same downwards
      if (x + 1 < width) {
        const d = diff(p, p + channels);
        if ((x + 1) % window === 0) { bSum += d; bN++; } else { eSum += d; eN++; }
      }
      if (y + 1 < height) {
        const d = diff(p, p + row);
        if ((y + 1) % window === 0) { bSum += d; bN++; } else { eSum += d; eN++; }
      }
    }
  }
  const boundary = bN ? bSum / (3 * bN) : 0;
  const elsewhere = eN ? eSum / (3 * eN) : 0;
  return { boundary, elsewhere, ratio: elsewhere > 0 ? boundary / elsewhere : NaN };
}
