// `npm start`: the whole product on one machine. Builds the client, encodes the sample
// images (samples/ by default, MRT_SAMPLES=DIR for another folder; skipping ones already
// up to date), writes the demo's comparison files (the best thumbnail for each of a ladder of
// byte budgets, and a progressive JPEG), seeds local R2 and runs the local edge on 127.0.0.1:PORT.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { main as cli } from '../src/encoder/cli.ts';
import { IMAGE_EXTENSIONS } from '../src/encoder/batch.ts';
import { demoThumbs } from './demo-thumbs.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLES = resolve(process.env.MRT_SAMPLES ?? join(ROOT, 'samples'));
const CACHE = join(ROOT, '.cache/demo');
const DEMO = join(ROOT, 'dist/client/demo');

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit' });
    p.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))));
    p.on('error', fail);
  });
}

function step(s: string) {
  process.stderr.write(`\n== ${s}\n`);
}

async function main() {
  if (!existsSync(SAMPLES)) {
    throw new Error(`sample images not found at ${SAMPLES}; set MRT_SAMPLES to a folder of images`);
  }
  const names = (await readdir(SAMPLES)).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  if (!names.length) throw new Error(`no images in ${SAMPLES}`);

  step('building the client (dist/client)');
  await run('npm', ['run', '--silent', 'build:client']);

  step(`encoding ${names.length} sample images from ${SAMPLES}`);
  const code = await cli(['encode', SAMPLES, '-o', join(CACHE, 'mrt') + '/', '--jobs', '2']);
  if (code !== 0) throw new Error('encoding the samples failed (see above)');

  step('writing the demo list, best thumbnails and progressive JPEGs for the side-by-side (cached)');
  await mkdir(join(DEMO, 'jpeg'), { recursive: true });
  const keys = names.map((n) => basename(n, extname(n)));
  const list = [];
  for (const [i, n] of names.entries()) {
    const key = keys[i]!;
    const out = join(DEMO, 'jpeg', `${key}.jpg`);
    if (!existsSync(out)) await sharp(join(SAMPLES, n)).jpeg({ quality: 80, progressive: true, mozjpeg: true }).toFile(out);
    const thumbs = await demoThumbs(join(SAMPLES, n), key, join(DEMO, 'thumbs'), '/demo/thumbs/', join(CACHE, 'thumbs'));
    list.push({ name: key, src: `/i/${key}.mrt`, jpeg: `/demo/jpeg/${key}.jpg`, thumbs });
  }
  await writeFile(join(DEMO, 'images.json'), JSON.stringify(list));

  step('seeding local R2');
  await run('npx', ['tsx', 'scripts/seed-edge.ts', join(CACHE, 'mrt')]);

  step(`starting the local edge on http://127.0.0.1:${process.env.PORT ?? 8787}/`);
  await run('node', ['scripts/dev-edge.mjs']);
}

main().catch((e) => {
  process.stderr.write(`npm start: ${(e as Error).message}\n`);
  process.exit(1);
});
