// Reads and writes the subset of ONNX's ModelProto (onnx.proto, proto2) that our exported
// decoder graphs use, with protobufjs. Node-side only (the converter and the parity tests):
// the browser reads the compact lean file instead. Fields are listed with their onnx.proto
// numbers so that a decode → edit → encode round trip keeps everything ORT needs.
import protobuf from 'protobufjs';

const rep = (type: string, id: number) => ({ rule: 'repeated', type, id });
const opt = (type: string, id: number) => ({ type, id });

const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: opt('int64', 1), opsetImport: rep('OperatorSetIdProto', 8), producerName: opt('string', 2),
            producerVersion: opt('string', 3), domain: opt('string', 4), modelVersion: opt('int64', 5),
            docString: opt('string', 6), graph: opt('GraphProto', 7), metadataProps: rep('StringStringEntryProto', 14),
          },
        },
        OperatorSetIdProto: { fields: { domain: opt('string', 1), version: opt('int64', 2) } },
        StringStringEntryProto: { fields: { key: opt('string', 1), value: opt('string', 2) } },
        GraphProto: {
          fields: {
            node: rep('NodeProto', 1), name: opt('string', 2), initializer: rep('TensorProto', 5), docString: opt('string', 10),
            input: rep('ValueInfoProto', 11), output: rep('ValueInfoProto', 12), valueInfo: rep('ValueInfoProto', 13),
          },
        },
        NodeProto: {
          fields: {
            input: rep('string', 1), output: rep('string', 2), name: opt('string', 3), opType: opt('string', 4),
            attribute: rep('AttributeProto', 5), docString: opt('string', 6), domain: opt('string', 7),
          },
        },
        AttributeProto: {
          fields: {
            name: opt('string', 1), f: opt('float', 2), i: opt('int64', 3), s: opt('bytes', 4), t: opt('TensorProto', 5),
            floats: rep('float', 7), ints: rep('int64', 8), strings: rep('bytes', 9), docString: opt('string', 13),
            type: opt('int32', 20), refAttrName: opt('string', 21),
          },
        },
        TensorProto: {
          fields: {
            dims: rep('int64', 1), dataType: opt('int32', 2), floatData: rep('float', 4), int32Data: rep('int32', 5),
            int64Data: rep('int64', 7), name: opt('string', 8), rawData: opt('bytes', 9), docString: opt('string', 12),
          },
        },
        ValueInfoProto: { fields: { name: opt('string', 1), type: opt('TypeProto', 2), docString: opt('string', 3) } },
        TypeProto: { fields: { tensorType: opt('TypeProtoTensor', 1) } },
        TypeProtoTensor: { fields: { elemType: opt('int32', 1), shape: opt('TensorShapeProto', 2) } },
        TensorShapeProto: { fields: { dim: rep('Dimension', 1) } },
        Dimension: { fields: { dimValue: opt('int64', 1), dimParam: opt('string', 2) } },
      },
    },
  },
});

const Model = root.lookupType('onnx.ModelProto');

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int64Data?: unknown[];
}
export interface OnnxAttribute {
  name: string;
  type?: number;
  f?: number;
  i?: unknown;
  s?: Uint8Array;
  t?: OnnxTensor;
  ints?: unknown[];
  floats?: number[];
}
export interface OnnxNode {
  opType: string;
  name?: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}
export interface OnnxModel {
  graph: { node: OnnxNode[]; initializer: OnnxTensor[]; input: { name: string }[]; output: { name: string }[] };
  [k: string]: unknown;
}

/** ONNX TensorProto.DataType values we read. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

export function decodeOnnx(bytes: Uint8Array): OnnxModel {
  const m = Model.toObject(Model.decode(bytes), { longs: Number, bytes: Uint8Array, defaults: false, arrays: true }) as OnnxModel;
  if (!m.graph) throw new Error('not an ONNX model (no graph)');
  return m;
}

export function encodeOnnx(m: OnnxModel): Uint8Array {
  return Model.encode(Model.fromObject(m)).finish();
}

/** A tensor's values as numbers (float32 or int64, raw or typed fields). */
export function tensorValues(t: OnnxTensor): Float32Array | number[] {
  if (t.dataType === ONNX_FLOAT) {
    if (t.rawData && t.rawData.length) {
      // a copy (protobufjs hands out Node Buffers, views into a shared pool)
      const copy = new Uint8Array(t.rawData);
      return new Float32Array(copy.buffer, 0, copy.length / 4);
    }
    return Float32Array.from(t.floatData ?? []);
  }
  if (t.dataType === ONNX_INT64) {
    if (t.rawData && t.rawData.length) {
      const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      return Array.from({ length: t.rawData.length / 8 }, (_, i) => Number(dv.getBigInt64(8 * i, true)));
    }
    return (t.int64Data ?? []).map(Number);
  }
  throw new Error(`tensor ${t.name}: unsupported ONNX data type ${t.dataType}`);
}

/** A float32 tensor proto with the given values (raw little-endian data). */
export function floatTensor(name: string, dims: number[], values: Float32Array): OnnxTensor {
  return { name, dims, dataType: ONNX_FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) };
}
