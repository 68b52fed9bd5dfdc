// Shared token codec API (docs/design.md "Shared TypeScript API"): tokens <-> bytes.
export { tokenLayout, layoutForImage, streamIndex, tokenPosition, tokenValue, tokenProgress, streamSymbols, COARSE_BINS, coarseOnlyToken, COARSE_LEVEL_OFFSET, type LayoutLike, type TokenLayout, type TokenProgress } from './layout.ts';
export { CoarseFirstPrior } from './coarse.ts';
export { M, PROB_BITS, RANS_L } from './rans.ts';
export { StaticPrior, STATIC_INCREMENT, STATIC_LIMIT, ADAPTIVE_CONTEXTS, neighbourhoodContext, type TokenPrior } from './prior.ts';
export { RcmPrior, parseRcm, serializeRcm, checkRcmLayout, RCM_FORMAT, RCM_LIMITS, type RcmWeights } from './rcm.ts';
export { detExp } from './detmath.ts';
export { createPrior, type PriorOptions } from './create.ts';
export { encodeChunk, encodeChunks, decodeChunk, ChunkDecoder, ModelledStream } from './chunk.ts';
export { StreamDecoder, decodeMrt, type StreamDecoderOptions, type StreamEvent } from './stream.ts';
export { regenerate, regenerationSeed, tokensToZ, REGENERATE_BY_DEFAULT, type DecoderInputs, type Regeneration, type RegenerationSample } from './regenerate.ts';
