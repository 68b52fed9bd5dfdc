// Which URL the worker fetches a runtime or model file from (src/client/assets.ts): the
// content-hashed name for a file of its own build, the plain name anywhere else.
import { describe, expect, it } from 'vitest';
import { assetUrl } from '../../src/client/assets.ts';

const root = 'https://site.example/static/';
const hashed = { 'ort.wasm.min.mjs': 'assets/ort.wasm.min.0123456789abcdef.mjs', 'models/rcm.json': 'assets/rcm.fedcba9876543210.json' };

describe('assetUrl', () => {
  it('the default bases (the build folder and its models/): hashed names', () => {
    expect(assetUrl(root, 'ort.wasm.min.mjs', root, hashed)).toBe('https://site.example/static/assets/ort.wasm.min.0123456789abcdef.mjs');
    expect(assetUrl(`${root}models/`, 'rcm.json', root, hashed)).toBe('https://site.example/static/assets/rcm.fedcba9876543210.json');
  });
  it('the same folder named another way (relative base): hashed names', () => {
    expect(assetUrl('./models/', 'rcm.json', root, hashed)).toBe('https://site.example/static/assets/rcm.fedcba9876543210.json');
  });
  it('another folder or a CDN: the plain name there', () => {
    expect(assetUrl('https://cdn.example/ort/1.30.0/', 'ort.wasm.min.mjs', root, hashed)).toBe('https://cdn.example/ort/1.30.0/ort.wasm.min.mjs');
    expect(assetUrl('https://site.example/other-models/', 'rcm.json', root, hashed)).toBe('https://site.example/other-models/rcm.json');
    expect(assetUrl('https://site.example/', 'static/models/rcm.json', 'https://site.example/static2/', hashed)).toBe('https://site.example/static/models/rcm.json');
  });
  it('a file the build did not hash: the plain name', () => {
    expect(assetUrl(`${root}models/`, 'decoder.onnx', root, hashed)).toBe('https://site.example/static/models/decoder.onnx');
  });
});
