// Shared .mrt container API (docs/design.md "Shared TypeScript API"). No model knowledge.
export * from './types.ts';
export { MrtFormatError, isMrtFormatError, type MrtErrorCode } from './errors.ts';
export { LIMITS, SIZED_FOR_STREAM_LAYERS, checkImageSize, imageSizeProblem, fullSizeProblem, type SizeLayout } from './limits.ts';
export { learnedSize, learnedSizeProblem } from './learned.ts';
export { crc32, chunkCrc, finalCrc, encodeRawChunk, splitRawChunk } from './crc32.ts';
export { readHeader, readFirstPaint, prefixLength, isCut, chunksWithin, learnedEnd, decodeFirstPaint, decodeIndex, headerInfo, DEFAULT_PLACEHOLDER_MIME } from './header.ts';
export { writeMrt, encodeHeaderMessages, headCrc, encodeChunkMessage, encodeFinalMessage, bytesAndCrcMessageSize, chunkByteLength } from './write.ts';
export { MrtParser, parseMrt, finalData, readFinal } from './parser.ts';
export { describe, formatInfo, type MrtDescription } from './describe.ts';
export { autoChunkLayers, doublingChunkLayers, chunkLayers, chunkRanges, ruleChunkLayers, CHUNK_RULES, isChunkRule, type ChunkRule } from './chunking.ts';
export { MODEL_HASH_BYTES, modelHashMatches, modelLabel, layoutMismatch, type ModelLayoutFields } from './model-hash.ts';
export { av1StillPayload, avifCodec, wrapAv1Still, AVIF_FORMATS, type AvifChroma, type AvifFormat } from './avif.ts';
export { MRT_PARTS, PART_HEADERS, isPart, partUrl, placeholderBackground, type MrtPart } from './parts.ts';
export { base64Decode, base64Encode, concatBytes } from './bytes.ts';
