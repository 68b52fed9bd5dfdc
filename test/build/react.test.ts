// The React wrapper (`mrt-img/react`, `mrt-img-client/react`; src/client/react.ts) as the
// package build makes it (scripts/build-package.ts buildReact: react.js + react.d.ts): rendered
// on a server with react-dom/server (plain <mrt-img> markup, the element's module never
// imported), and in Chromium from an app bundled with esbuild and rendered with
// react-dom/client, where onPaint fires with a learned paint.
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReact } from '../../scripts/build-package.ts';
import { MrtImg } from '../../src/client/react.ts';
import { encodeFixture, ensureClient, haveKodak, haveModels, type FixtureSpec } from '../browser/fixtures.ts';
import { DIST, launchChromium, ROOT, startServer, watchErrors } from '../browser/harness.ts';

const SMALL: FixtureSpec = { name: 'kodim05', crop: [0, 0, 192, 128], layersPerChunk: 16 };

describe('<MrtImg> for React', () => {
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mrt-react-'));
    await buildReact(work);
  }, 120_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the build: react.js imports React and the element beside it; react.d.ts has the JSX typings', async () => {
    const js = await readFile(join(work, 'react.js'), 'utf8');
    expect(js).toMatch(/from ["']react["']/);
    expect(js).toMatch(/import\(["']\.\/mrt-img\.js["']\)/);
    const dts = await readFile(join(work, 'react.d.ts'), 'utf8');
    expect(dts).toContain(`from './mrt-img.js'`);
    expect(dts).toContain(`'mrt-img': React.DetailedHTMLProps`);
  });

  it('the declarations type-check a consumer: <MrtImg> props and handlers, <mrt-img> in JSX, and reject a wrong prop', async () => {
    await ensureClient();
    await symlink(join(ROOT, 'node_modules'), join(work, 'node_modules'));
    await copyFile(join(DIST, 'mrt-img.d.ts'), join(work, 'mrt-img.d.ts'));
    await writeFile(
      join(work, 'consumer.tsx'),
      `import { MrtImg, type MrtPaintDetail } from './react.js';
export const a = <MrtImg src="/a.mrt" width={768} height={512} alt="a" loading="lazy" budget="2k" className="x"
  onPaint={(d: MrtPaintDetail) => console.log(d.kind, d.bytes)} onError={(d) => console.log(d.fatal)} />;
export const b = <mrt-img src="/a.mrt" width={768} alt="b" fetchpriority="high"><noscript><img src="/a.jpg" alt="b" /></noscript></mrt-img>;
export const c = <MrtImg src="/a.mrt" loading="later" />;
`,
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const { execFile } = await import('node:child_process');
    const stdout = await new Promise<string>((res) =>
      execFile(process.execPath, [tsc, '--noEmit', '--strict', '--jsx', 'react-jsx', '--target', 'ES2022', '--lib', 'ES2022,DOM', '--module', 'ESNext', '--moduleResolution', 'Bundler', '--types', 'react', 'consumer.tsx'], { cwd: work }, (_e, out) => res(out)),
    );
    expect(stdout.trim().split('\n')).toEqual([expect.stringMatching(/^consumer\.tsx\(5,\d+\): error TS2322: Type '"later"' is not assignable/)]);
  }, 60_000);

  it('renders on a server: <mrt-img> markup with its attributes and children, nothing thrown, no element defined', () => {
    const html = renderToString(
      createElement(MrtImg, { src: '/i/a.mrt', width: 768, height: 512, alt: 'a house', loading: 'lazy', budget: '2k', className: 'hero', onPaint: () => undefined },
        createElement('noscript', null, createElement('img', { src: '/a.jpg', alt: 'a house' }))),
    );
    expect(html).toMatch(/^<mrt-img /);
    for (const a of ['src="/i/a.mrt"', 'width="768"', 'height="512"', 'alt="a house"', 'loading="lazy"', 'budget="2k"', 'class="hero"']) expect(html).toContain(a);
    expect(html).not.toMatch(/onPaint|onpaint/i);
    expect(html).toContain('<noscript><img src="/a.jpg" alt="a house"/></noscript>');
    expect(typeof (globalThis as { customElements?: unknown }).customElements).toBe('undefined');
  });

  it('in Chromium, bundled with esbuild and rendered with react-dom/client: onPaint fires with a learned paint', async () => {
    if (!(haveModels() && haveKodak())) throw new Error('prerequisites missing (models/ or ../shared/data/kodak): see README');
    await ensureClient();
    await writeFile(
      join(work, 'app.js'),
      `import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { MrtImg } from './react.js';
window.kinds = [];
createRoot(document.getElementById('root')).render(
  h(MrtImg, { src: '/i/small.mrt', width: 192, height: 128, alt: 'k',
    onPaint: (d) => window.kinds.push(d.kind), onLoad: (d) => window.kinds.push('load'), onError: (d) => window.kinds.push('error: ' + d.message) }));
`,
    );
    const out = await build({
      entryPoints: [join(work, 'app.js')],
      bundle: true,
      write: false,
      format: 'esm',
      minify: true,
      nodePaths: [join(ROOT, 'node_modules')],
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'warning',
      // the element's module stays where the copied client folder has it (here the test server's root)
      plugins: [{ name: 'element', setup: (b) => b.onResolve({ filter: /^\.\/mrt-img\.js$/ }, () => ({ path: './mrt-img.js', external: true })) }],
    });
    const server = await startServer();
    const browser = await launchChromium();
    try {
      server.streams.set('/i/small.mrt', { bytes: await encodeFixture(SMALL) });
      server.streams.set('/react-app.js', { bytes: out.outputFiles[0]!.contents });
      server.streams.set('/react.html', { bytes: new TextEncoder().encode('<!doctype html><div id="root"></div><script type="module" src="/react-app.js"></script>') });
      const page = await browser.context.newPage();
      const errors = watchErrors(page);
      await page.goto(`${server.url}/react.html`);
      await page.waitForFunction(() => (window as unknown as { kinds: string[] }).kinds.some((k) => k === 'ml' || k.startsWith('error')), null, { timeout: 60_000 });
      const kinds = await page.evaluate(() => (window as unknown as { kinds: string[] }).kinds);
      expect(kinds.filter((k) => k.startsWith('error'))).toEqual([]);
      expect(kinds[0]).toBe('placeholder');
      expect(kinds).toContain('ml');
      expect(await page.evaluate(() => document.querySelector('mrt-img')?.getAttribute('src'))).toBe('/i/small.mrt');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
