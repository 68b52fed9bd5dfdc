// Smoke test in WebKit: Debian's WebKitGTK MiniBrowser, driven over classic WebDriver by
// WebKitWebDriver (webkit2gtk-driver) through a few fetch calls, on an Xvfb display (the GTK
// MiniBrowser has no headless mode). The default lean runtime paints the image on WASM close
// to the Node decoder on the same stream, from the lean files and nothing of onnxruntime-web.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFixture, ensureClient, haveKodak, haveModels, MODELS, type FixtureSpec } from './fixtures.ts';
import { psnr, startServer, capturePage, type TestServer } from './harness.ts';

const DRIVER = '/usr/bin/WebKitWebDriver';
const XVFB = '/usr/bin/Xvfb';
const MINIBROWSER = readdirSync('/usr/lib', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => `/usr/lib/${d.name}/webkit2gtk-4.1/MiniBrowser`)
  .find((p) => existsSync(p));
const TINY: FixtureSpec = { name: 'kodim01', crop: [0, 0, 64, 64], layersPerChunk: 64 };

// Missing prerequisites fail the file loudly: these tests never skip themselves into green.
if (!haveModels() || !haveKodak()) throw new Error('prerequisites missing (models/, ../shared/data/kodak): see README');
if (!existsSync(DRIVER) || !existsSync(XVFB) || !MINIBROWSER) throw new Error('WebKitWebDriver, Xvfb or the WebKitGTK MiniBrowser missing: run npm run setup:test (Debian webkit2gtk-driver, xvfb)');

async function nodeDecode(mrt: Uint8Array): Promise<Uint8Array> {
  const { decode, loadModels } = await import('../../src/encoder/index.ts');
  const models = await loadModels(MODELS.endsWith('/') ? MODELS : MODELS + '/');
  return (await decode(mrt, { models })).image.data;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Starts Xvfb on a free display (it writes the display number to fd 3). */
function startXvfb(): Promise<{ proc: ChildProcess; display: string }> {
  const proc = spawn(XVFB, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], detached: true });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    proc.stdio[3]!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ proc, display: `:${out.trim()}` });
    });
    proc.once('exit', (code) => reject(new Error(`Xvfb exited (${code}): ${err}`)));
    setTimeout(() => reject(new Error(`Xvfb gave no display in 10 s: ${err}`)), 10_000);
  });
}

/** Ends a process group this file started (the driver takes the MiniBrowser it launched with it). */
function stop(p: ChildProcess | undefined): void {
  if (!p?.pid || p.exitCode !== null) return;
  try {
    process.kill(-p.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
}

describe('WebKitGTK (classic WebDriver)', () => {
  let srv: TestServer;
  let reference: Uint8Array;
  let xvfb: ChildProcess | undefined;
  let driver: ChildProcess | undefined;
  let base = '';
  let session = '';

  async function wd(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<any> {
    const r = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const j = (await r.json()) as { value: any };
    if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${r.status} ${JSON.stringify(j.value)}`);
    return j.value;
  }
  const run = (script: string) => wd('POST', `/session/${session}/execute/sync`, { script, args: [] });

  beforeAll(async () => {
    const [, tiny] = await Promise.all([ensureClient(), encodeFixture(TINY)]);
    reference = await nodeDecode(tiny);
    srv = await startServer();
    srv.streams.set('/i/tiny.mrt', { bytes: tiny });

    const x = await startXvfb();
    xvfb = x.proc;
    const port = await freePort();
    driver = spawn(DRIVER, [`--port=${port}`, '--host=127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, DISPLAY: x.display } });
    let driverErr = '';
    driver.stderr!.on('data', (d) => (driverErr += d));
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        await wd('GET', '/status');
        break;
      } catch (e) {
        if (i > 100 || driver.exitCode !== null) throw new Error(`WebKitWebDriver did not start: ${(e as Error).message} ${driverErr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const s = await wd('POST', '/session', {
      capabilities: { alwaysMatch: { browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } } },
    });
    session = s.sessionId;
    console.log(`[webkit] MiniBrowser ${s.capabilities.browserVersion} on Xvfb ${x.display}`);
  });
  afterAll(async () => {
    if (session) await wd('DELETE', `/session/${session}`).catch(() => undefined);
    stop(driver);
    stop(xvfb);
    await srv?.close();
  });

  it('the lean runtime paints the image on WASM, close to the Node decoder, and loads none of onnxruntime-web', async () => {
    srv.streams.set('/t/webkit.html', {
      bytes: new TextEncoder().encode(
        capturePage('/i/tiny.mrt', 64),
      ),
    });
    const from = srv.log.length;
    await wd('POST', `/session/${session}/url`, { url: `${srv.url}/t/webkit.html` });
    const deadline = Date.now() + 45_000;
    while (!(await run('return !!(window.pixels || (window.errors && window.errors.length))'))) {
      if (Date.now() > deadline) throw new Error(`no load or error in 45 s; paints: ${JSON.stringify(await run('return window.paints'))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const r = await run('return { backend: window.backend, paints: window.paints, pixels: window.pixels || [], errors: window.errors, rejections: window.__rejections }');
    const requests = srv.log.slice(from).map((e) => e.path);

    expect(r.errors).toEqual([]);
    expect(r.rejections).toEqual([]);
    expect(r.backend).toBe('wasm');
    const ml = r.paints.filter((p: any) => p.kind === 'ml');
    expect(ml.length).toBeGreaterThanOrEqual(1);
    expect(ml[ml.length - 1].backend).toBe('wasm');
    // an interim paint (the tail basis still loading) is followed by the full one before load
    expect(ml[ml.length - 1].interim).toBeUndefined();
    expect(r.pixels.length).toBe(64 * 64 * 4);
    // int8 weights in the browser, float32 ones in Node: close, not equal
    const q = psnr(r.pixels, 4, reference, 3, 64 * 64);
    console.log(`[webkit] lean PSNR vs onnxruntime-node: ${q.toFixed(2)} dB, ${ml.length} ml paint(s), last runMs ${Math.round(ml[ml.length - 1].runMs)}`);
    expect(q).toBeGreaterThan(35);
    expect(requests.some((p) => /mrt-kernels\.[0-9a-f]+\.wasm$/.test(p))).toBe(true);
    expect(requests.some((p) => /decoder-lean\.[0-9a-f]+\.bin$/.test(p))).toBe(true);
    expect(requests.filter((p) => /ort|\.onnx/.test(p))).toEqual([]);
  }, 60_000);
});
