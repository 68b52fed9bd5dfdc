// Public library API of the encoder package (Node): encode images to .mrt, decode prefixes.
export { encode, encodeRgb, normaliseOptions, contentHash, DEFAULT_COARSE_LAYERS, defaultCoarseLayers, type EncodeOptions, type FinalFormat } from './encode.ts';
export { decode, DecodeError, type DecodeOptions, type DecodeResult } from './decode.ts';
export { loadModels, ModelError, DEFAULT_MODELS_DIR, type Models, type Manifest } from './models.ts';
export { readImage, encodePng, InputError, type RgbImage, type AlphaMode } from './image-io.ts';
export { MissingPeerError } from './peers.ts';
// a server-rendered page's inline placeholder (src/format/parts.ts): placeholderBackground(readFirstPaint(first bytes))
export { placeholderBackground, readFirstPaint } from '../format/index.ts';
