import { ByteBuffer } from 'flatbuffers';

/**
 * A reader for the part of the TFLite flatbuffer schema (`tflite::Model`, schema version 3) that a float
 * inference graph needs: tensors, constant buffers, operator codes, operators and the builtin options of the
 * operators that {@link ./graph.ts} runs. The bytes are read with the official `flatbuffers` runtime (the
 * same `ByteBuffer` accessors that `flatc --ts` output calls); the field numbers below are transcribed from
 * TensorFlow's `tensorflow/compiler/mlir/lite/schema/schema.fbs` (flatbuffers slot of field n = 4 + 2n, a
 * union takes two fields: its type byte, then the table).
 *
 * Everything is copied out into plain objects, so the returned model does not keep the file's
 * `ArrayBuffer` alive except through the constant tensors' `data` views (which are copies when unaligned).
 */

/** `tflite::TensorType`: only the ones a float model uses get names here. */
export const TensorType = { FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, INT8: 9 } as const;

/** `tflite::BuiltinOperator` values of the ops this reader names; others are reported by number. */
export const BuiltinOperator = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  L2_NORMALIZATION: 11,
  LOGISTIC: 14,
  MAX_POOL_2D: 17,
  MUL: 18,
  RELU: 19,
  RELU6: 21,
  RESHAPE: 22,
  SOFTMAX: 25,
  PAD: 34,
  MEAN: 40,
  SUB: 41,
  DIV: 42,
  SQUEEZE: 43,
  HARD_SWISH: 117,
} as const;
const OPERATOR_NAMES = new Map<number, string>(Object.entries(BuiltinOperator).map(([name, code]) => [code, name]));
export function operatorName(code: number): string {
  return OPERATOR_NAMES.get(code) ?? `BUILTIN_${code}`;
}

export type Padding = 'same' | 'valid';
/** `tflite::ActivationFunctionType`. */
export type Activation = 'none' | 'relu' | 'relu_n1_to_1' | 'relu6' | 'tanh' | 'sign_bit';
const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'relu_n1_to_1', 'relu6', 'tanh', 'sign_bit'];

export interface TfliteTensor {
  readonly index: number;
  readonly name: string;
  readonly shape: readonly number[];
  /** `TensorType` value. */
  readonly type: number;
  /** The constant's bytes (little-endian), or `null` for activations and inputs. */
  readonly data: Uint8Array | null;
  /** Present only when the tensor is quantised (a scale or zero point is stored). */
  readonly quantization?: { scale: number[]; zeroPoint: bigint[]; quantizedDimension: number };
  readonly sparse: boolean;
}

/** Builtin options, decoded for the ops that have a table in this reader; `{}` for the others. */
export type OperatorOptions =
  | { kind: 'conv2d'; padding: Padding; strideH: number; strideW: number; dilationH: number; dilationW: number; activation: Activation }
  | { kind: 'depthwise'; padding: Padding; strideH: number; strideW: number; dilationH: number; dilationW: number; depthMultiplier: number; activation: Activation }
  | { kind: 'pool2d'; padding: Padding; strideH: number; strideW: number; filterH: number; filterW: number; activation: Activation }
  | { kind: 'fullyConnected'; activation: Activation; weightsFormat: number; keepNumDims: boolean }
  | { kind: 'elementwise'; activation: Activation }
  | { kind: 'reshape'; newShape: number[] | null }
  | { kind: 'reducer'; keepDims: boolean }
  | { kind: 'squeeze'; squeezeDims: number[] }
  | { kind: 'softmax'; beta: number }
  | { kind: 'concatenation'; axis: number; activation: Activation }
  | { kind: 'none' };

export interface TfliteOperator {
  /** Effective builtin code (`max(deprecated_builtin_code, builtin_code)`), or `BuiltinOperator.CUSTOM` (32). */
  readonly opcode: number;
  readonly opcodeVersion: number;
  readonly customCode: string | null;
  /** Tensor indices; -1 marks an omitted optional input. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly options: OperatorOptions;
}

export interface TfliteSubgraph {
  readonly name: string;
  readonly tensors: readonly TfliteTensor[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly operators: readonly TfliteOperator[];
}

export interface TfliteModel {
  readonly version: number;
  readonly description: string;
  readonly subgraphs: readonly TfliteSubgraph[];
  /** `Model.metadata` names (e.g. `TFLITE_METADATA`, `min_runtime_version`) with their buffer bytes. */
  readonly metadata: ReadonlyMap<string, Uint8Array>;
}

export class TfliteFormatError extends Error {
  override name = 'TfliteFormatError';
}

/** Field slot in a table's vtable. */
const slot = (field: number) => 4 + 2 * field;

/** Thin typed accessors over one table, in the style of `flatc --ts` output. */
class Table {
  constructor(
    readonly bb: ByteBuffer,
    readonly pos: number,
  ) {}

  private off(field: number): number {
    return this.bb.__offset(this.pos, slot(field));
  }
  has(field: number): boolean {
    return this.off(field) !== 0;
  }
  int8(field: number, dflt = 0): number {
    const o = this.off(field);
    return o ? this.bb.readInt8(this.pos + o) : dflt;
  }
  uint8(field: number, dflt = 0): number {
    const o = this.off(field);
    return o ? this.bb.readUint8(this.pos + o) : dflt;
  }
  bool(field: number, dflt = false): boolean {
    const o = this.off(field);
    return o ? this.bb.readInt8(this.pos + o) !== 0 : dflt;
  }
  int32(field: number, dflt = 0): number {
    const o = this.off(field);
    return o ? this.bb.readInt32(this.pos + o) : dflt;
  }
  uint32(field: number, dflt = 0): number {
    const o = this.off(field);
    return o ? this.bb.readUint32(this.pos + o) : dflt;
  }
  uint64(field: number, dflt = 0n): bigint {
    const o = this.off(field);
    return o ? this.bb.readUint64(this.pos + o) : dflt;
  }
  float32(field: number, dflt = 0): number {
    const o = this.off(field);
    return o ? this.bb.readFloat32(this.pos + o) : dflt;
  }
  string(field: number): string | null {
    const o = this.off(field);
    return o ? (this.bb.__string(this.pos + o) as string) : null;
  }
  table(field: number): Table | null {
    const o = this.off(field);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : null;
  }
  /**
   * Start (absolute) and length of a vector field, or null when absent.
   * @throws TfliteFormatError when the vector would run past the end of the file (cut short or corrupt): the
   *   runtime reads out-of-range bytes as 0 rather than failing, and a garbage length must not become a loop.
   */
  private vector(field: number, elementBytes: number): { start: number; length: number } | null {
    const o = this.off(field);
    if (!o) return null;
    const start = this.bb.__vector(this.pos + o);
    const length = this.bb.__vector_len(this.pos + o);
    if (!(start >= 0 && length >= 0 && start + length * elementBytes <= this.bb.capacity())) {
      throw new TfliteFormatError('The file is cut short or corrupt (a vector runs past its end).');
    }
    return { start, length };
  }
  tables(field: number): Table[] {
    const v = this.vector(field, 4);
    if (!v) return [];
    return Array.from({ length: v.length }, (_, i) => new Table(this.bb, this.bb.__indirect(v.start + 4 * i)));
  }
  int32s(field: number): number[] | null {
    const v = this.vector(field, 4);
    return v ? Array.from({ length: v.length }, (_, i) => this.bb.readInt32(v.start + 4 * i)) : null;
  }
  float32s(field: number): number[] {
    const v = this.vector(field, 4);
    return v ? Array.from({ length: v.length }, (_, i) => this.bb.readFloat32(v.start + 4 * i)) : [];
  }
  int64s(field: number): bigint[] {
    const v = this.vector(field, 8);
    return v ? Array.from({ length: v.length }, (_, i) => this.bb.readInt64(v.start + 8 * i)) : [];
  }
  /** A `[ubyte]` field as a view on the file's bytes (no copy). */
  bytes(field: number): Uint8Array | null {
    const v = this.vector(field, 1);
    if (!v) return null;
    const all = this.bb.bytes();
    return all.subarray(v.start, v.start + v.length);
  }
}

// Field numbers from schema.fbs.
const MODEL = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4, metadata: 6 };
const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 };
const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, sparsity: 6 };
const QUANT = { scale: 2, zeroPoint: 3, quantizedDimension: 6 };
const BUFFER = { data: 0, offset: 1, size: 2 };
const OPCODE = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 };
const OPERATOR = { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptionsType: 3, builtinOptions: 4 };
const METADATA = { name: 0, buffer: 1 };

/**
 * `BuiltinOptions` union member numbers (1-based position in the union) of the option tables decoded here,
 * checked against the operator's `builtin_options_type` so a misread never passes silently.
 */
const OPTIONS_TYPE = {
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ReshapeOptions: 17,
  MulOptions: 21,
  ReducerOptions: 27,
  SubOptions: 28,
  DivOptions: 29,
  SqueezeOptions: 30,
} as const;

const activation = (value: number): Activation => {
  const a = ACTIVATIONS[value];
  if (!a) throw new TfliteFormatError(`Unknown fused activation ${value}.`);
  return a;
};
const padding = (value: number): Padding => (value === 1 ? 'valid' : 'same');

function readOptions(opcode: number, type: number, t: Table | null): OperatorOptions {
  const expect = (name: keyof typeof OPTIONS_TYPE): Table | null => {
    if (t && type !== OPTIONS_TYPE[name]) {
      throw new TfliteFormatError(`${operatorName(opcode)} carries builtin options of union type ${type}, expected ${name}.`);
    }
    return t;
  };
  // An absent options table means every field has its default value.
  const B = BuiltinOperator;
  switch (opcode) {
    case B.CONV_2D: {
      const o = expect('Conv2DOptions');
      return {
        kind: 'conv2d',
        padding: padding(o?.int8(0) ?? 0),
        strideW: o?.int32(1) ?? 0,
        strideH: o?.int32(2) ?? 0,
        activation: activation(o?.int8(3) ?? 0),
        dilationW: o?.int32(4, 1) ?? 1,
        dilationH: o?.int32(5, 1) ?? 1,
      };
    }
    case B.DEPTHWISE_CONV_2D: {
      const o = expect('DepthwiseConv2DOptions');
      return {
        kind: 'depthwise',
        padding: padding(o?.int8(0) ?? 0),
        strideW: o?.int32(1) ?? 0,
        strideH: o?.int32(2) ?? 0,
        depthMultiplier: o?.int32(3) ?? 0,
        activation: activation(o?.int8(4) ?? 0),
        dilationW: o?.int32(5, 1) ?? 1,
        dilationH: o?.int32(6, 1) ?? 1,
      };
    }
    case B.AVERAGE_POOL_2D:
    case B.MAX_POOL_2D: {
      const o = expect('Pool2DOptions');
      return {
        kind: 'pool2d',
        padding: padding(o?.int8(0) ?? 0),
        strideW: o?.int32(1) ?? 0,
        strideH: o?.int32(2) ?? 0,
        filterW: o?.int32(3) ?? 0,
        filterH: o?.int32(4) ?? 0,
        activation: activation(o?.int8(5) ?? 0),
      };
    }
    case B.FULLY_CONNECTED: {
      const o = expect('FullyConnectedOptions');
      return { kind: 'fullyConnected', activation: activation(o?.int8(0) ?? 0), weightsFormat: o?.int8(1) ?? 0, keepNumDims: o?.bool(2) ?? false };
    }
    case B.ADD:
      return { kind: 'elementwise', activation: activation(expect('AddOptions')?.int8(0) ?? 0) };
    case B.MUL:
      return { kind: 'elementwise', activation: activation(expect('MulOptions')?.int8(0) ?? 0) };
    case B.SUB:
      return { kind: 'elementwise', activation: activation(expect('SubOptions')?.int8(0) ?? 0) };
    case B.DIV:
      return { kind: 'elementwise', activation: activation(expect('DivOptions')?.int8(0) ?? 0) };
    case B.RESHAPE:
      return { kind: 'reshape', newShape: expect('ReshapeOptions')?.int32s(0) ?? null };
    case B.MEAN:
      return { kind: 'reducer', keepDims: expect('ReducerOptions')?.bool(0) ?? false };
    case B.SQUEEZE:
      return { kind: 'squeeze', squeezeDims: expect('SqueezeOptions')?.int32s(0) ?? [] };
    case B.SOFTMAX:
      return { kind: 'softmax', beta: expect('SoftmaxOptions')?.float32(0) ?? 0 };
    case B.CONCATENATION: {
      const o = expect('ConcatenationOptions');
      return { kind: 'concatenation', axis: o?.int32(0) ?? 0, activation: activation(o?.int8(1) ?? 0) };
    }
    default:
      return { kind: 'none' };
  }
}

/** Copies a constant's bytes unless they start 8-byte aligned (typed-array views need 4; int64 needs 8). */
function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
}

/**
 * Parses a `.tflite` file.
 * @throws TfliteFormatError when the bytes are not a TFLite flatbuffer (identifier `TFL3`) or use a feature
 *   this reader does not handle (buffers stored outside the flatbuffer are supported; sparse tensors are flagged).
 */
export function parseTflite(input: Uint8Array | ArrayBuffer): TfliteModel {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.length < 8) throw new TfliteFormatError('Too short to be a TFLite model.');
  const bb = new ByteBuffer(bytes);
  if (String.fromCharCode(...bytes.subarray(4, 8)) !== 'TFL3') {
    throw new TfliteFormatError('Not a TFLite model (file identifier is not "TFL3").');
  }
  const root = new Table(bb, bb.readUint32(0));

  const buffers = root.tables(MODEL.buffers).map((b) => {
    const offset = b.uint64(BUFFER.offset);
    if (offset > 1n) {
      // Models over 2 GB keep buffers after the flatbuffer: offset from the start of the file.
      const start = Number(offset);
      const end = start + Number(b.uint64(BUFFER.size));
      if (end > bytes.length) throw new TfliteFormatError('The file is cut short (a weight buffer runs past its end).');
      return bytes.subarray(start, end);
    }
    return b.bytes(BUFFER.data);
  });

  const opcodes = root.tables(MODEL.operatorCodes).map((c) => ({
    code: Math.max(c.int8(OPCODE.deprecatedBuiltinCode), c.int32(OPCODE.builtinCode)),
    version: c.int32(OPCODE.version, 1),
    custom: c.string(OPCODE.customCode),
  }));

  const subgraphs = root.tables(MODEL.subgraphs).map((g): TfliteSubgraph => {
    const tensors = g.tables(SUBGRAPH.tensors).map((t, index): TfliteTensor => {
      const data = buffers[t.uint32(TENSOR.buffer)];
      const q = t.table(TENSOR.quantization);
      const scale = q?.float32s(QUANT.scale) ?? [];
      const zeroPoint = q?.int64s(QUANT.zeroPoint) ?? [];
      return {
        index,
        name: t.string(TENSOR.name) ?? '',
        shape: t.int32s(TENSOR.shape) ?? [],
        type: t.int8(TENSOR.type),
        data: data && data.length > 0 ? aligned(data) : null,
        sparse: t.has(TENSOR.sparsity),
        ...(scale.length || zeroPoint.length
          ? { quantization: { scale, zeroPoint, quantizedDimension: q?.int32(QUANT.quantizedDimension) ?? 0 } }
          : {}),
      };
    });
    const operators = g.tables(SUBGRAPH.operators).map((op): TfliteOperator => {
      const code = opcodes[op.uint32(OPERATOR.opcodeIndex)];
      if (!code) throw new TfliteFormatError('Operator refers to a missing operator code.');
      return {
        opcode: code.code,
        opcodeVersion: code.version,
        customCode: code.custom,
        inputs: op.int32s(OPERATOR.inputs) ?? [],
        outputs: op.int32s(OPERATOR.outputs) ?? [],
        options: readOptions(code.code, op.uint8(OPERATOR.builtinOptionsType), op.table(OPERATOR.builtinOptions)),
      };
    });
    return {
      name: g.string(SUBGRAPH.name) ?? '',
      tensors,
      inputs: g.int32s(SUBGRAPH.inputs) ?? [],
      outputs: g.int32s(SUBGRAPH.outputs) ?? [],
      operators,
    };
  });

  const metadata = new Map<string, Uint8Array>();
  for (const m of root.tables(MODEL.metadata)) {
    const data = buffers[m.uint32(METADATA.buffer)];
    metadata.set(m.string(METADATA.name) ?? '', data ?? new Uint8Array(0));
  }

  return { version: root.uint32(MODEL.version), description: root.string(MODEL.description) ?? '', subgraphs, metadata };
}

/** A constant float32 tensor's values (a view when the bytes are aligned, as the converter writes them). */
export function float32Data(tensor: TfliteTensor): Float32Array {
  if (!tensor.data) throw new TfliteFormatError(`Tensor ${tensor.index} (${tensor.name}) has no constant data.`);
  if (tensor.type !== TensorType.FLOAT32) throw new TfliteFormatError(`Tensor ${tensor.name} is not float32 (type ${tensor.type}).`);
  const { buffer, byteOffset, byteLength } = tensor.data;
  return new Float32Array(buffer, byteOffset, byteLength / 4);
}

/** A constant int32 tensor's values (shape operands of RESHAPE, axes of MEAN...). */
export function int32Data(tensor: TfliteTensor): Int32Array {
  if (!tensor.data) throw new TfliteFormatError(`Tensor ${tensor.index} (${tensor.name}) has no constant data.`);
  if (tensor.type !== TensorType.INT32) throw new TfliteFormatError(`Tensor ${tensor.name} is not int32 (type ${tensor.type}).`);
  const { buffer, byteOffset, byteLength } = tensor.data;
  return new Int32Array(buffer, byteOffset, byteLength / 4);
}
