// Cross-runtime determinism: the tokens Chromium decodes (through the real path: fetch
// stream → worker → shared StreamDecoder + RCM) equal the tokens of the Node side, for all
// 24 Kodak images (at a modest budget, to bound the time) and the golden vectors.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMrt, parseRcm, tokenLayout, tokenProgress } from '../../src/codec/index.ts';
import { prefixLength, readHeader } from '../../src/format/index.ts';
import { encodeFixture, ensureClient, haveKodak, haveModels, KODAK_NAMES, MODELS } from './fixtures.ts';
import { launchChromium, ROOT, startServer, testPage, type BrowserHandle, type TestServer } from './harness.ts';

const ready = haveModels() && haveKodak();
/** Layers decoded per Kodak image (default all 64: about 12 s for the 24 images here). */
// every layer by default (MRT_DETERMINISM_LAYERS=N checks only the chunks holding the first N)
const LAYERS = Number(process.env.MRT_DETERMINISM_LAYERS ?? Infinity);
const GOLDEN = join(ROOT, 'test/golden');

async function rcm() {
  const f = join(MODELS, 'rcm.json');
  return existsSync(f) ? parseRcm(JSON.parse(await readFile(f, 'utf8'))) : null;
}

/** Golden streams: every .mrt under test/golden (with the tokens Node decodes from it). */
async function goldenStreams(): Promise<{ name: string; bytes: Uint8Array; tokens?: number[] }[]> {
  if (!existsSync(GOLDEN)) return [];
  const out: { name: string; bytes: Uint8Array; tokens?: number[] }[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.mrt')) {
        const sidecar = p.replace(/\.mrt$/, '.json');
        let tokens: number[] | undefined;
        if (existsSync(sidecar)) {
          try {
            const j = JSON.parse(await readFile(sidecar, 'utf8'));
            if (Array.isArray(j.tokens)) tokens = j.tokens;
          } catch {
            /* not a token sidecar */
          }
        }
        out.push({ name: p.slice(GOLDEN.length + 1), bytes: new Uint8Array(await readFile(p)), tokens });
      }
    }
  };
  await walk(GOLDEN);
  return out;
}

// Missing prerequisites fail the file loudly: these tests never skip themselves into green.
if (!ready) throw new Error('prerequisites missing (models/, ../shared/data/kodak, or the edge scripts): see README');
describe('cross-runtime token determinism (Chromium vs Node)', () => {
  let srv: TestServer;
  let browser: BrowserHandle;

  beforeAll(async () => {
    await ensureClient();
    srv = await startServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  /** Decodes every stream in one page (tokens only, no ONNX) and returns the tokens per src. */
  async function chromiumTokens(srcs: string[], budget: string, modelBase?: string): Promise<Record<string, { tokens: Uint8Array; known: number; error?: string }>> {
    const items = srcs.map((s, i) => `<mrt-img data-keep-tokens id="m${i}" src="${s}" width="64" height="64" budget="${budget}" refine="none"></mrt-img>`).join('\n');
    // (the learned path: a first visit would read a stream's final layer alone, without its tokens)
    const cfg = JSON.stringify({ paint: false, directFinal: 'never', ...(modelBase ? { modelBase } : {}) });
    srv.streams.set('/t/det.html', {
      bytes: new TextEncoder().encode(
        testPage(
          `${items}
           <script type="module">
             const els = [...document.querySelectorAll('mrt-img')];
             const done = els.map((m) => new Promise((r) => {
               m.addEventListener('load', r, { once: true });
               m.addEventListener('error', (e) => { m.dataset.err = e.detail.code + ': ' + e.detail.message; r(); }, { once: true });
             }));
             await Promise.all(done);
             const out = {};
             for (const m of els) {
               const t = await m.debugTokens();
               // base64 of the token bytes: 24 whole Kodak streams are 2.4 M tokens
               let bin = '';
               for (const v of t.tokens ?? []) bin += String.fromCharCode(v);
               out[m.getAttribute('src')] = { tokens64: btoa(bin), known: t.known, error: m.dataset.err };
             }
             window.result = out;
           </script>`,
          `<script type="module">customElements.whenDefined('mrt-img').then(() => customElements.get('mrt-img').configure(${cfg}));</script>`,
        ),
      ),
    });
    const page = await browser.context.newPage();
    try {
      await page.goto(`${srv.url}/t/det.html`);
      await page.waitForFunction(() => (window as any).result, null, { timeout: 240_000, polling: 500 });
      const res = (await page.evaluate(() => (window as any).result)) as Record<string, { tokens64: string; known: number; error?: string }>;
      return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, { tokens: new Uint8Array(Buffer.from(v.tokens64, 'base64')), known: v.known, error: v.error }]));
    } finally {
      await page.close();
    }
  }

  it(`all 24 Kodak images: Chromium tokens equal Node's (${Number.isFinite(LAYERS) ? `first ${LAYERS} layers` : 'whole streams'})`, async () => {
    const prior = await rcm();
    const streams: Record<string, Uint8Array> = {};
    for (const name of KODAK_NAMES) {
      const bytes = await encodeFixture({ name });
      streams[`/i/${name}.mrt`] = bytes;
      srv.streams.set(`/i/${name}.mrt`, { bytes });
    }
    // the chunks that hold the first LAYERS layers (the encoder's chunking is in whole
    // layers; every Kodak image has the same grid size, so the same chunking)
    const layersIn = (info: ReturnType<typeof readHeader>) => {
      const cells = info.header.layout.gridW * info.header.layout.gridH;
      const n = info.header.chunks.filter((c) => c.tokenEnd <= LAYERS * cells).length;
      return { n, tokens: n ? info.header.chunks[n - 1]!.tokenEnd : 0 };
    };
    const first = layersIn(readHeader(Object.values(streams)[0]!));
    expect(first.tokens).toBeGreaterThan(0);
    const got = await chromiumTokens(Object.keys(streams), `q${first.n}`);
    for (const [src, bytes] of Object.entries(streams)) {
      const info = readHeader(bytes);
      const want = layersIn(info);
      expect(want.n, src).toBe(first.n);
      const node = decodeMrt(bytes.subarray(0, prefixLength(info, { chunks: want.n })), { rcm: prior });
      const c = got[src];
      expect(c.error, src).toBeUndefined();
      expect(c.known, src).toBe(node.known);
      expect(c.known, src).toBe(want.tokens);
      // Compare as one string: a mismatch prints the first differing image, not 24k lines.
      expect(Buffer.from(c.tokens).equals(Buffer.from(node.tokens.subarray(0, tokenProgress(tokenLayout(info.header.layout), node.known).coarse))), `${src}: tokens differ`).toBe(true);
    }
  });

  it('golden vectors: Chromium tokens equal Node and the stored tokens', async (ctx) => {
    const golden = await goldenStreams();
    if (!golden.length) ctx.skip();
    // The golden streams use their own small RCM (rcm-small.json) and a made-up model hash:
    // serve them as model bases (manifest + rcm.json; the decoder is never fetched in
    // tokens-only mode), one per token layout, since a stream whose layout is not its
    // manifest's is refused.
    const rcmText = await readFile(join(GOLDEN, 'rcm-small.json'));
    const rcmSmall = parseRcm(JSON.parse(rcmText.toString('utf8')));
    const hash16 = Array.from({ length: 16 }, (_, i) => (i * 37 + 5) & 255);
    const hex = (a: number[]) => a.map((b) => b.toString(16).padStart(2, '0')).join('');
    const layoutOf = (bytes: Uint8Array) => {
      try {
        const l = readHeader(bytes).header.layout;
        return { window: l.window, baseFactor: l.baseFactor, tokens: l.tokensPerWindow, levels: l.levels };
      } catch {
        return { window: 32, baseFactor: 16, tokens: 6, levels: 9 }; // a stream Node rejects too
      }
    };
    const groups = new Map<string, string[]>();
    for (const g of golden) {
      const layout = layoutOf(g.bytes);
      const key = `${layout.window}-${layout.baseFactor}-${layout.tokens}-${layout.levels}`;
      if (!groups.has(key)) {
        const base = `/golden-models-${key}/`;
        srv.streams.set(`${base}rcm.json`, { bytes: new Uint8Array(rcmText) });
        srv.streams.set(`${base}manifest.json`, {
          bytes: new TextEncoder().encode(
            JSON.stringify({
              id: 'golden-rcm-small',
              files: { 'decoder.onnx': { sha256: '0'.repeat(64), bytes: 0 }, 'rcm.json': { sha256: createHash('sha256').update(rcmText).digest('hex'), bytes: rcmText.length } },
              layout,
              modelHash: hex(hash16) + '0'.repeat(32),
            }),
          ),
        });
        groups.set(key, []);
      }
      groups.get(key)!.push(`/golden/${g.name}`);
      srv.streams.set(`/golden/${g.name}`, { bytes: g.bytes });
    }
    const got: Awaited<ReturnType<typeof chromiumTokens>> = {};
    for (const [key, srcs] of groups) Object.assign(got, await chromiumTokens(srcs, 'full', `/golden-models-${key}/`));
    let checked = 0;
    for (const g of golden) {
      const node = decodeMrt(g.bytes, { rcm: rcmSmall });
      const c = got[`/golden/${g.name}`];
      // Chromium decodes exactly what Node decodes (also for a stream Node rejects).
      expect(c.known, g.name).toBe(node.known);
      const told = node.header ? tokenProgress(tokenLayout(node.header.layout), node.known).coarse : 0;
      expect(Buffer.from(c.tokens).equals(Buffer.from(node.tokens.subarray(0, told))), `${g.name}: tokens differ from Node`).toBe(true);
      // The stored tokens: compared when Node reproduces them (test/format and test/codec
      // own the golden files; a stale golden after a format change is theirs to report).
      // (2.8: the stored tokens are those the known symbols tell, coarse-only ones as 3c + 1)
      const nodeMatchesStored = !!g.tokens && told === g.tokens.length && g.tokens.every((t, i) => node.tokens[i] === t);
      if (nodeMatchesStored) {
        expect(Array.from(c.tokens), `${g.name}: tokens differ from the stored ones`).toEqual(g.tokens);
        checked++;
      }
    }
    console.log(`[golden] ${golden.length} streams, ${checked} with stored tokens reproduced in Chromium: ${golden.map((g) => g.name).join(', ')}`);
  });
});
