// Which WebGPU adapters backend 'auto' leaves for WASM (src/client/runtime.ts): fallback
// adapters and software renderers, whose runs take minutes at 768x512.
import { describe, expect, it } from 'vitest';
import { softwareAdapter } from '../../src/client/runtime.ts';

describe('softwareAdapter', () => {
  const left: [string, Parameters<typeof softwareAdapter>[0]][] = [
    ['Chromium --enable-unsafe-webgpu without a GPU (SwiftShader)', { info: { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true } }],
    ['SwiftShader not flagged as fallback', { info: { vendor: 'google', architecture: 'swiftshader' } }],
    ['Mesa llvmpipe', { info: { vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }],
    ['lavapipe', { info: { vendor: 'mesa', device: 'lavapipe' } }],
    ['Windows WARP', { info: { vendor: 'microsoft', description: 'Microsoft Basic Render Driver' } }],
    ['the older adapter.isFallbackAdapter', { isFallbackAdapter: true }],
  ];
  for (const [what, a] of left) it(`leaves ${what}`, () => expect(softwareAdapter(a)).toMatch(/^the WebGPU adapter is a (fallback adapter|software renderer) \(/));
  const kept: [string, Parameters<typeof softwareAdapter>[0]][] = [
    ['an NVIDIA GPU', { info: { vendor: 'nvidia', architecture: 'ampere' } }],
    ['Apple silicon', { info: { vendor: 'apple', architecture: 'metal-3' } }],
    ['an adapter that says nothing about itself', {}],
    ['an Intel GPU named like a rasteriser in passing', { info: { vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) Iris(R) Xe Graphics (Software Warpath edition)' } }],
  ];
  for (const [what, a] of kept) it(`keeps ${what}`, () => expect(softwareAdapter(a)).toBe(''));
});
