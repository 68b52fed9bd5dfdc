/**
 * Edge load test: prefix serving vs a plain R2 range read through the same worker.
 *
 *   npm run bench:edge [-- --duration 4 --connections 8 --rounds 3 --json bench/out/edge-load.json]
 *                      [-- --file some.mrt]   (a real encoded file instead of the synthetic one)
 *
 * 1. Builds a 768×512-shaped synthetic .mrt (64 layer chunks + a final layer; the edge
 *    never decodes payloads) and seeds it into a fresh local R2 (temp dir).
 * 2. Starts `wrangler dev` on 127.0.0.1 and a free port (MRT_PLAIN_READ=1 enables the
 *    `?plain` baseline route).
 * 3. autocannon, bounded in time, rounds interleaved to share the machine's drift:
 *      plain   GET /i/bench.mrt?plain  + Range: bytes=0-(N-1)   (raw R2 range read)
 *      prefix  GET /i/bench.mrt?q=16                             (header cache, cut, Cache API)
 *      hinted  GET /i/bench.mrt        + ECT: 3g                 (hint rule, then as prefix)
 *      prefix-r2  as prefix + X-MRT-No-Cache (bench mode only): body from R2, no Cache API
 *    and reports requests/s, p50, p99 and prefix/plain ratios (target: within 1.2×).
 * 4. A mixed bad-input run (bad keys, queries, ranges, methods, auth, hints) asserting
 *    zero 5xx responses.
 * Everything started here is stopped by PID (its process group) at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { writeMrt, readHeader, prefixLength } from '../src/format/index.ts';
import { seed } from '../scripts/seed-edge.ts';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const autocannon = require('autocannon') as any;

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const DURATION = opt('duration', 4);
const CONNECTIONS = opt('connections', 8);
const ROUNDS = opt('rounds', 3);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const fileArg = args.includes('--file') ? args[args.indexOf('--file') + 1] : undefined;

function benchMrt(): Uint8Array {
  const width = 768, height = 512, T = 64;
  const gw = width / 32, gh = height / 32, per = gw * gh;
  const chunks = [];
  let seedv = 12345;
  const rnd = () => ((seedv = (seedv * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
  for (let t = 0; t < T; t++) {
    // coarse layers cost more bytes than fine ones, like real token streams
    const size = Math.round(320 - 3.5 * t);
    chunks.push({ tokenStart: t * per, tokenEnd: (t + 1) * per, payload: Uint8Array.from({ length: size }, rnd) });
  }
  const final = { mime: 'image/avif', bytes: Uint8Array.from({ length: 30000 }, rnd) };
  return writeMrt(
    {
      width,
      height,
      layout: { window: 32, baseFactor: 16, tokensPerWindow: T, levels: 9 },
      prior: 'static',
      placeholder: { mime: 'image/webp', width: 48, height: 32, bytes: Uint8Array.from({ length: 200 }, rnd) },
    },
    chunks,
    final,
  );
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

async function waitReady(base: string, child: ChildProcess, ms = 90_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${base}/i/__ready.mrt`);
      await r.arrayBuffer();
      if (r.status === 404) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('wrangler dev did not become ready');
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.pid === undefined) return res();
    const pid = child.pid;
    const t = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000);
    child.once('exit', () => {
      clearTimeout(t);
      res();
    });
    try {
      process.kill(-pid, 'SIGTERM'); // the process group we created (wrangler + workerd)
    } catch {
      clearTimeout(t);
      res();
    }
  });
}

type Run = { name: string; rps: number; p50: number; p99: number; total: number; non2xx: number; s5xx: number; errors: number; bytes: number };

function cannon(name: string, o: Record<string, unknown>): Promise<Run> {
  return new Promise((res, rej) => {
    autocannon({ connections: CONNECTIONS, pipelining: 1, duration: DURATION, ...o }, (err: Error | null, r: any) => {
      if (err) return rej(err);
      const s5xx = Object.entries(r.statusCodeStats as Record<string, { count: number }>)
        .filter(([code]) => Number(code) >= 500)
        .reduce((a, [, v]) => a + v.count, 0);
      res({
        name,
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        total: r.requests.total,
        non2xx: r.non2xx,
        s5xx,
        errors: r.errors + r.timeouts,
        bytes: r.throughput.average,
      });
    });
  });
}

async function main(): Promise<number> {
  const bytes = fileArg ? new Uint8Array(readFileSync(fileArg)) : benchMrt();
  const info = readHeader(bytes);
  const q = Math.max(1, Math.min(16, Math.floor(info.chunkEnds.length / 4)));
  const n = prefixLength(info, { chunks: q });
  console.log(`fixture${fileArg ? ` ${fileArg}` : ' (synthetic)'}: ${bytes.length} bytes, ${info.chunkEnds.length} chunks${info.finalEnd ? ' + final' : ''}; prefix q=${q} = ${n} bytes`);

  const state = mkdtempSync(join(tmpdir(), 'mrt-edge-bench-'));
  mkdirSync(join(root, 'dist/client'), { recursive: true });
  const { getPlatformProxy } = await import('wrangler');
  const proxy = await getPlatformProxy<{ IMAGES: Parameters<typeof seed>[0] }>({
    configPath: join(root, 'wrangler.toml'),
    persist: { path: join(state, 'v3') },
  });
  const file = join(state, 'bench.mrt');
  writeFileSync(file, bytes);
  await seed(proxy.env.IMAGES, [{ key: 'bench.mrt', path: file }], () => undefined);
  await proxy.dispose();

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const wrangler = join(dirname(require.resolve('wrangler/package.json')), 'bin/wrangler.js');
  const { prepareAssets } = (await import('../scripts/dev-edge.mjs')) as { prepareAssets: () => string[] };
  prepareAssets();
  const child = spawn(
    process.execPath,
    [wrangler, 'dev', '--ip', '127.0.0.1', '--port', String(port), '--local', '--persist-to', state, '--var', 'MRT_PLAIN_READ:1', '--log-level', 'error'],
    { cwd: root, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  console.log(`wrangler dev pid ${child.pid} on ${base}`);
  let code = 0;
  try {
    await waitReady(base, child);
    const path = '/i/bench.mrt';
    const plainReq = { path: `${path}?plain`, headers: { range: `bytes=0-${n - 1}` } };
    const prefixReq = { path: `${path}?q=${q}` };
    const hintedReq = { path, headers: { ect: '3g' } };
    const r2Req = { path: `${path}?q=${q}`, headers: { 'x-mrt-no-cache': '1' } };
    // correctness and warm-up: same bytes from both routes
    const a = new Uint8Array(await (await fetch(base + plainReq.path, { headers: plainReq.headers })).arrayBuffer());
    const b = new Uint8Array(await (await fetch(base + prefixReq.path)).arrayBuffer());
    const hres = await fetch(base + hintedReq.path, { headers: hintedReq.headers });
    const hn = Number(hres.headers.get('x-mrt-bytes'));
    await hres.arrayBuffer();
    if (a.length !== n || b.length !== n || a.some((v, i) => v !== b[i])) throw new Error(`plain/prefix bodies differ (${a.length} vs ${b.length})`);
    console.log(`hinted (ECT: 3g) prefix = ${hn} bytes`);
    for (let i = 0; i < 30; i++) await Promise.all([fetch(base + prefixReq.path).then((r) => r.arrayBuffer()), fetch(base + hintedReq.path, { headers: hintedReq.headers }).then((r) => r.arrayBuffer())]);

    const runs: Record<string, Run[]> = { plain: [], prefix: [], hinted: [], 'prefix-r2': [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, req] of [['plain', plainReq], ['prefix', prefixReq], ['hinted', hintedReq], ['prefix-r2', r2Req]] as const) {
        const r = await cannon(name, { url: base + req.path, headers: 'headers' in req ? req.headers : {} });
        runs[name]!.push(r);
        console.log(`round ${round + 1} ${name.padEnd(6)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  (${r.total} req, non-2xx ${r.non2xx}, errors ${r.errors})`);
      }
    }
    // medians over rounds; ratios are taken per round (the runs of one round are
    // adjacent in time, so the shared machine's drift mostly cancels) and then the median
    const med = (xs: number[]) => {
      const a = [...xs].sort((x, y) => x - y);
      return a.length % 2 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2;
    };
    const summary = Object.fromEntries(
      Object.entries(runs).map(([k, rs]) => [k, { rps: med(rs.map((r) => r.rps)), p50: med(rs.map((r) => r.p50)), p99: med(rs.map((r) => r.p99)), non2xx: rs.reduce((s, r) => s + r.non2xx + r.errors, 0) }]),
    );
    const P = summary.plain!, X = summary.prefix!, H = summary.hinted!, R = summary['prefix-r2']!;
    const rel = (name: string) => {
      const a = runs[name]!, p = runs.plain!;
      return {
        rps: med(a.map((r, i) => p[i]!.rps / r.rps)),
        p50: med(a.map((r, i) => r.p50 / p[i]!.p50)),
        p99: med(a.map((r, i) => r.p99 / p[i]!.p99)),
      };
    };
    const ratio = { prefix: rel('prefix'), hinted: rel('hinted'), prefixR2: rel('prefix-r2') };
    console.log('\nsummary (median of rounds)    req/s    p50 ms   p99 ms');
    for (const [k, s] of Object.entries(summary)) console.log(`  ${k.padEnd(26)} ${s.rps.toFixed(0).padStart(7)} ${s.p50.toFixed(2).padStart(8)} ${s.p99.toFixed(2).padStart(8)}`);
    const fmt = (r: { rps: number; p50: number; p99: number }) => `cost per request ${r.rps.toFixed(2)}x (plain req/s ÷ its req/s), p50 ${r.p50.toFixed(2)}x, p99 ${r.p99.toFixed(2)}x`;
    console.log(`ratio prefix/plain (median of per-round ratios): ${fmt(ratio.prefix)}  (target ≤ 1.2x)`);
    console.log(`ratio hinted/plain: ${fmt(ratio.hinted)}`);
    console.log(`ratio prefix-r2/plain (no Cache API: header logic + R2 read): ${fmt(ratio.prefixR2)}`);
    if (P.non2xx + X.non2xx + H.non2xx + R.non2xx > 0) {
      console.log('FAIL: non-2xx or errors in the throughput runs');
      code = 1;
    }
    const okRatio = ratio.prefix.rps <= 1.2 && ratio.prefix.p50 <= 1.2;

    // mixed bad input: every request is a client error; none may be a 5xx
    const bad = [
      { path: '/i/nope.mrt' },
      { path: '/i/..%2Fsecret.mrt' },
      { path: '/i/a%5Cb.mrt' },
      { path: '/i/a%00b.mrt' },
      { path: `/i/${'x'.repeat(1100)}.mrt` },
      { path: '/i/bad%ZZ.mrt' },
      { path: '/i/a//b.mrt' },
      { path: `${path}?bytes=-5` },
      { path: `${path}?bytes=abc` },
      { path: `${path}?q=1e9` },
      { path: `${path}?q=2&bytes=5` },
      { path, headers: { range: 'bytes=999999999-' } },
      { path, headers: { range: 'bytes=5-1' } },
      { path, headers: { range: 'bytes=0-1,4-5' } },
      { path, headers: { range: 'bytes=-0' } },
      { path, headers: { range: 'pages=1-2' } },
      { path, headers: { ect: 'warp', downlink: 'NaN', rtt: '-1', 'sec-ch-width': '0', dpr: '1e400' } },
      { path, headers: { 'if-none-match': '"' + 'x'.repeat(500) } },
      { path, method: 'POST', body: 'x' },
      { path, method: 'PUT', body: 'not an mrt' },
      { path, method: 'PUT', body: 'x', headers: { authorization: 'Bearer wrong' } },
      { path, method: 'DELETE' },
      { path, method: 'OPTIONS' },
      { path: '/nowhere/at/all' },
      { path: '/i/' },
      { path: '/i/.mrt' },
    ];
    const br = await cannon('bad-input', { url: base, requests: bad, duration: Math.max(3, Math.round(DURATION / 2)) });
    console.log(`\nbad input: ${br.total} requests over ${bad.length} kinds, ${br.s5xx} 5xx, ${br.errors} errors/timeouts`);
    if (br.s5xx > 0 || br.errors > 0) {
      console.log('FAIL: 5xx (or socket errors) for client input');
      code = 1;
    }
    console.log(okRatio ? 'PASS: prefix serving within 1.2x of the plain range read' : 'MISS: prefix serving is more than 1.2x slower than the plain range read');
    if (jsonOut) {
      mkdirSync(dirname(resolve(jsonOut)), { recursive: true });
      writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), duration: DURATION, connections: CONNECTIONS, rounds: ROUNDS, prefixBytes: n, hintedBytes: hn, runs, summary, ratio, badInput: br }, null, 2));
    }
  } catch (e) {
    console.error(e, stderr);
    code = 1;
  } finally {
    await stop(child);
    rmSync(state, { recursive: true, force: true });
  }
  return code;
}

main().then((c) => process.exit(c));
