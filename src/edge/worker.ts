/**
 * The deployable Worker (wrangler.toml `main`): the MRT image routes, plus the client
 * build (dist/client, via the ASSETS binding) with client-hint opt-in on the demo page.
 */
import { Hono } from 'hono';
import { createMrtApp, ACCEPT_CH, CRITICAL_CH } from './app.ts';
import { serveHashedAsset, serveModelFile } from './assets.ts';
import { jsonProblem, problem } from './http.ts';
import type { MrtEnv } from './types.ts';

const app = new Hono<{ Bindings: MrtEnv }>();

app.route('/', createMrtApp<MrtEnv>());

const PLACEHOLDER_PAGE = `<!doctype html><meta charset="utf-8"><title>MRT edge</title>
<p>The MRT edge is running. The client build (dist/client) is not there yet: build the
client, then reload. Images are served at <code>/i/&lt;key&gt;.mrt</code>.</p>`;

// The demo page goes through the Worker (run_worker_first) so that it can ask for client
// hints: Accept-CH on the document makes the browser send them on image requests.
app.get('/', async (c) => {
  let res: Response | null = null;
  if (c.env.ASSETS) {
    res = await c.env.ASSETS.fetch(c.req.raw);
    if (res.status === 404) res = null;
  }
  if (!res) res = new Response(PLACEHOLDER_PAGE, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
  const out = new Response(res.body, res);
  out.headers.set('Accept-CH', ACCEPT_CH);
  out.headers.set('Critical-CH', CRITICAL_CH);
  out.headers.set(
    'Permissions-Policy',
    'ch-width=*, ch-dpr=*, ch-viewport-width=*, ch-ect=*, ch-downlink=*, ch-rtt=*',
  );
  return out;
});

// The client's content-hashed files: the precompressed variant the request accepts,
// immutable (src/edge/assets.ts; wrangler.toml sends /assets/* here first).
app.on(['GET', 'HEAD'], '/assets/*', async (c) => {
  const res = await serveHashedAsset(c.req.raw, c.env);
  return res ?? jsonProblem(problem(404, 'not-found', `no asset ${new URL(c.req.url).pathname}`));
});

// Every shipped model at /models/<hash prefix>/FILE (an earlier model's folder is a static
// asset and answered before the Worker; the default model's versioned path reaches it).
app.on(['GET', 'HEAD'], '/models/*', async (c) => (await serveModelFile(c.req.raw, c.env)) ?? c.notFound());

const ASSET_TYPES: Record<string, string> = {
  wasm: 'application/wasm',
  mjs: 'text/javascript; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  json: 'application/json',
  onnx: 'application/octet-stream',
};

// Paths that are neither static assets nor /i/... (assets are matched before the Worker).
// Client files over the 25 MiB Workers asset limit (listed in dist/client/.assetsignore)
// are stored in R2 under `_assets/<path>` by `npm run seed:edge` and served from there.
app.notFound(async (c) => {
  const path = new URL(c.req.url).pathname;
  const m = /^\/((?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*\.(wasm|mjs|js|json|onnx))$/.exec(path);
  if (m && (c.req.method === 'GET' || c.req.method === 'HEAD') && c.env.IMAGES) {
    const obj = await c.env.IMAGES.get(`_assets/${m[1]}`);
    if (obj && 'body' in obj) {
      return new Response(obj.body, {
        headers: {
          'Content-Type': ASSET_TYPES[m[2]!]!,
          'Content-Length': String(obj.size),
          ETag: obj.httpEtag,
          'Cache-Control': 'public, max-age=3600',
          'Access-Control-Allow-Origin': '*',
          'Cross-Origin-Resource-Policy': 'cross-origin',
        },
      });
    }
  }
  return jsonProblem(problem(404, 'not-found', `no route for ${path}`));
});

app.onError((err) => {
  console.error('[mrt-edge] unhandled error', err);
  return jsonProblem(problem(500, 'internal', err instanceof Error ? err.message : String(err)));
});

export default app;
