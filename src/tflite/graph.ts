import * as tf from '@tensorflow/tfjs-core';
import {
  BuiltinOperator as B,
  float32Data,
  int32Data,
  operatorName,
  TensorType,
  type Activation,
  type TfliteModel,
  type TfliteOperator,
  type TfliteSubgraph,
  type TfliteTensor,
} from './schema.js';

/**
 * Runs a float32 TFLite subgraph with tfjs-core ops, on whatever backend is active (the project ships wasm).
 *
 * Load time: every constant becomes a tf tensor once, in the layout tfjs wants (CONV_2D filters
 * `[out, h, w, in]` -> `[h, w, in, out]`, DEPTHWISE_CONV_2D `[1, h, w, in*mult]` -> `[h, w, in, mult]`,
 * FULLY_CONNECTED `[out, in]` -> `[in, out]`), and each operator becomes a closure over its tensors.
 * Run time: the closures run in file order (TFLite stores operators topologically sorted) inside one
 * `tf.tidy`, and intermediate tensors are freed as soon as their last consumer has run.
 *
 * The batch dimension is free: a model declared for `[1, 224, 224, 3]` runs on `[n, 224, 224, 3]`
 * (RESHAPE keeps dimension 0 as the batch; see `reshapeTarget`).
 */

export class TfliteUnsupportedError extends Error {
  override name = 'TfliteUnsupportedError';
}

/** Ops this runner implements (builtin codes). */
export const SUPPORTED_OPERATORS: ReadonlySet<number> = new Set([
  B.ADD, B.SUB, B.MUL, B.DIV, B.CONV_2D, B.DEPTHWISE_CONV_2D, B.AVERAGE_POOL_2D, B.MAX_POOL_2D, B.MEAN,
  B.HARD_SWISH, B.RELU, B.RELU6, B.LOGISTIC, B.RESHAPE, B.SQUEEZE, B.FULLY_CONNECTED, B.SOFTMAX,
  B.CONCATENATION, B.L2_NORMALIZATION,
]);

export interface CompileOptions {
  /**
   * Graph rewrites that keep the maths but save ops (default true):
   * - The input's scaling (`inputScale`, then the graph's own MUL / ADD / SUB / DIV by scalars) becomes one
   *   subtraction (of the raw value that scales to 0, so the zero padding stays exact) with the scale moved
   *   into the first convolution's filter.
   * - HARD_SWISH `x * relu6(x + 3) / 6` runs as 3 ops: the `/ 6` moves into the filters of the
   *   convolutions that consume it (when they are its only consumers).
   * - Squeeze-excite's hard sigmoid `relu6(x + 3) * (1 / 6)`: the scalar MUL moves into the filters of the
   *   convolutions that read the gated features.
   * - MEAN over H and W (squeeze-excite pooling) runs as a full-window AVERAGE_POOL_2D, which the wasm
   *   backend does without the transpose its Mean kernel makes.
   */
  optimize?: boolean;
  /**
   * What `run` is given: raw values that the graph's input is `raw * scale + offset` of (for example
   * 0..255 pixels for a model that wants [0, 1]: scale 1 / 255). Default: the graph's input as it is.
   */
  inputScale?: { scale: number; offset: number };
}

export interface CompiledGraph {
  readonly inputShape: readonly number[];
  readonly outputShapes: readonly (readonly number[])[];
  /** Number of tfjs-level steps run per inference (for comparing rewrites). */
  readonly steps: number;
  /** Runs the graph on its input(s); returns the subgraph's outputs. Call inside or outside tidy. */
  run(...inputs: tf.Tensor[]): tf.Tensor[];
  dispose(): void;
}

type Values = (tf.Tensor | undefined)[];
type Step = { run: (values: Values) => void; inputs: number[]; name: string };

function fusedActivation(a: Activation): 'linear' | 'relu' | 'relu6' | null {
  return a === 'none' ? 'linear' : a === 'relu' || a === 'relu6' ? a : null;
}

function applyActivation(x: tf.Tensor, a: Activation): tf.Tensor {
  switch (a) {
    case 'none':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'relu_n1_to_1':
      return tf.clipByValue(x, -1, 1);
    case 'tanh':
      return tf.tanh(x);
    case 'sign_bit':
      throw new TfliteUnsupportedError('SIGN_BIT fused activation is not supported.');
  }
}

/** Scalars the steps use, made once per graph: a number operand makes a new tensor on every call. */
interface Scalars {
  three: tf.Scalar;
  sixth: tf.Scalar;
}

/** hard-swish(x) = x * relu6(x + 3) / 6; without `divide` the `/ 6` is left to the consumers' filters. */
function hardSwish(x: tf.Tensor, divide: boolean, { three, sixth }: Scalars): tf.Tensor {
  const gated = tf.mul(x, tf.relu6(tf.add(x, three)));
  return divide ? tf.mul(gated, sixth) : gated;
}

/**
 * RESHAPE target: the shape operand (or `new_shape` option), with dimension 0 taken from the input's batch
 * when the model was converted for batch 1, so batches run too.
 */
function reshapeTarget(input: tf.Tensor, target: readonly number[]): number[] {
  const shape = [...target];
  const batch = input.shape[0] ?? 1;
  if (shape.length > 0 && batch !== 1 && (shape[0] === 1 || shape[0] === -1)) shape[0] = batch;
  return shape;
}

export function compileTflite(model: TfliteModel, options: CompileOptions = {}): CompiledGraph {
  const graph = model.subgraphs[0];
  if (!graph) throw new TfliteUnsupportedError('The model has no subgraph.');
  if (model.subgraphs.length > 1) throw new TfliteUnsupportedError('Models with several subgraphs (control flow) are not supported.');
  return compileSubgraph(graph, options.optimize ?? true, options.inputScale ?? { scale: 1, offset: 0 });
}

/** A scalar float constant's value, or undefined. */
function scalarValue(t: TfliteTensor | undefined): number | undefined {
  if (!t || t.data === null || t.type !== TensorType.FLOAT32) return undefined;
  const values = float32Data(t);
  return values.length === 1 ? values[0] : undefined;
}

function compileSubgraph(graph: TfliteSubgraph, optimize: boolean, inputScale: { scale: number; offset: number }): CompiledGraph {
  const { tensors, operators } = graph;
  for (const op of operators) {
    if (!SUPPORTED_OPERATORS.has(op.opcode)) {
      throw new TfliteUnsupportedError(`Operator ${operatorName(op.opcode)}${op.customCode ? ` (${op.customCode})` : ''} is not supported.`);
    }
  }
  for (const t of tensors) {
    if (t.quantization && t.type !== TensorType.FLOAT32 && t.type !== TensorType.INT32) {
      throw new TfliteUnsupportedError(`Tensor ${t.name} is quantised (type ${t.type}); only float32 models are supported.`);
    }
    if (t.sparse) throw new TfliteUnsupportedError(`Tensor ${t.name} is sparse; not supported.`);
  }

  // Who reads each tensor: to free intermediates early and to check rewrites.
  const consumers = new Map<number, TfliteOperator[]>();
  for (const op of operators) for (const i of op.inputs) if (i >= 0) consumers.set(i, [...(consumers.get(i) ?? []), op]);

  const kept: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    kept.push(t);
    return t;
  };
  const tensor = (i: number | undefined): TfliteTensor => {
    const t = i === undefined ? undefined : tensors[i];
    if (!t) throw new TfliteUnsupportedError(`Missing tensor ${i}.`);
    return t;
  };
  /** A float constant as a tf tensor in the file's shape (scalars stay scalars). */
  const constant = (i: number): tf.Tensor => {
    const t = tensor(i);
    return keep(t.type === TensorType.INT32 ? tf.tensor(int32Data(t), [...t.shape], 'int32') : tf.tensor(float32Data(t), [...t.shape], 'float32'));
  };
  const scalars: Scalars = { three: keep(tf.scalar(3)), sixth: keep(tf.scalar(1 / 6)) };
  const isConstant = (i: number) => tensor(i).data !== null;
  const isConstantIndex = (i: number | undefined) => i !== undefined && i >= 0 && isConstant(i);

  // Rewrites, decided before any op is compiled. `alias` maps a skipped op's output to the tensor that
  // stands in for it; `scaleInputBy` gives convolutions a factor for their filters.
  const alias = new Map<number, number>();
  const skipped = new Set<TfliteOperator>();
  const scaleInputBy = new Map<TfliteOperator, number>(); // conv -> factor for its filter
  const scaleFilter = (conv: TfliteOperator, factor: number) => scaleInputBy.set(conv, (scaleInputBy.get(conv) ?? 1) * factor);
  /** Reads `out` only as the input (not the filter) of convolutions whose filters are their own. */
  const onlyConvInputs = (out: number): TfliteOperator[] | undefined => {
    const readers = consumers.get(out) ?? [];
    const ok =
      readers.length > 0 &&
      !graph.outputs.includes(out) &&
      readers.every((r) => (r.opcode === B.CONV_2D || r.opcode === B.DEPTHWISE_CONV_2D) && r.inputs[0] === out && !r.inputs.slice(1).includes(out) && (consumers.get(r.inputs[1] as number)?.length ?? 0) === 1);
    return ok ? readers : undefined;
  };
  const hardSwishNoDivide = new Set<TfliteOperator>();
  /** The first convolution with the input's affine scaling folded in (see `foldInput`). */
  let inputFold: { conv: TfliteOperator; scale: number; offset: number } | undefined;
  if (optimize) {
    // HARD_SWISH outputs whose every consumer is a conv reading them as its input: the / 6 goes into those filters.
    for (const op of operators) {
      if (op.opcode !== B.HARD_SWISH) continue;
      const readers = onlyConvInputs(op.outputs[0] as number);
      if (!readers) continue;
      hardSwishNoDivide.add(op);
      for (const r of readers) scaleFilter(r, 1 / 6);
    }
    // Squeeze-excite: gate = MUL(relu6(...), k), then MUL(x, gate) read only by convs: k goes into their filters.
    for (const op of operators) {
      const k = op.opcode === B.MUL && op.options.kind === 'elementwise' && op.options.activation === 'none' ? scalarValue(tensors[op.inputs[1] as number]) : undefined;
      const gate = op.outputs[0] as number;
      const [gated] = consumers.get(gate) ?? [];
      if (k === undefined || isConstantIndex(op.inputs[0]) || (consumers.get(gate)?.length ?? 0) !== 1 || graph.outputs.includes(gate)) continue;
      if (!gated || gated.opcode !== B.MUL || gated.options.kind !== 'elementwise' || gated.options.activation !== 'none' || gated.inputs[0] === gated.inputs[1]) continue;
      const readers = onlyConvInputs(gated.outputs[0] as number);
      if (!readers) continue;
      skipped.add(op);
      alias.set(gate, op.inputs[0] as number);
      for (const r of readers) scaleFilter(r, k);
    }
    inputFold = foldableInput();
  }

  /**
   * The graph input's path to its first convolution through scalar MUL / ADD / SUB / DIV only (each read by
   * the next alone), as one affine map `x * scale + offset` of the raw values `run` gets.
   */
  function foldableInput(): { conv: TfliteOperator; scale: number; offset: number } | undefined {
    if (graph.inputs.length !== 1) return undefined;
    let at = graph.inputs[0] as number;
    let { scale, offset } = inputScale;
    const chain: TfliteOperator[] = [];
    for (;;) {
      const readers = consumers.get(at) ?? [];
      if (readers.length !== 1 || graph.outputs.includes(at)) return undefined;
      const op = readers[0] as TfliteOperator;
      if (op.opcode === B.CONV_2D && op.inputs[0] === at && (consumers.get(op.inputs[1] as number)?.length ?? 0) === 1 && scale !== 0) {
        for (const c of chain) skipped.add(c);
        if (chain.length > 0) alias.set(op.inputs[0] as number, graph.inputs[0] as number);
        return { conv: op, scale, offset };
      }
      if (op.options.kind !== 'elementwise' || op.options.activation !== 'none' || op.inputs[0] !== at) return undefined;
      const c = scalarValue(tensors[op.inputs[1] as number]);
      if (c === undefined) return undefined;
      if (op.opcode === B.MUL) [scale, offset] = [scale * c, offset * c];
      else if (op.opcode === B.DIV) [scale, offset] = [scale / c, offset / c];
      else if (op.opcode === B.ADD) offset += c;
      else if (op.opcode === B.SUB) offset -= c;
      else return undefined;
      chain.push(op);
      at = op.outputs[0] as number;
    }
  }

  const steps: Step[] = [];
  /** Adds a step; `constOperands` are constant inputs the closure reads through `get` (made into tensors now). */
  const add = (op: TfliteOperator, run: (get: (i: number) => tf.Tensor) => tf.Tensor, constOperands: number[] = []) => {
    const out = op.outputs[0] as number;
    const consts = new Map<number, tf.Tensor>(constOperands.map((i) => [i, constant(i)]));
    steps.push({
      name: operatorName(op.opcode),
      inputs: op.inputs.filter((i) => i >= 0 && !isConstant(i)).map((i) => alias.get(i) ?? i),
      run: (values) => {
        values[out] = run((i) => {
          const v = values[alias.get(i) ?? i] ?? consts.get(i);
          if (!v) throw new Error(`Tensor ${tensor(i).name} is read before it is computed.`);
          return v;
        });
      },
    });
  };
  const constantsOf = (op: TfliteOperator) => op.inputs.filter((i) => i >= 0 && isConstant(i));

  for (const op of operators) {
    if (skipped.has(op)) continue;
    const [a, b, c] = op.inputs as [number, number, number];
    const o = op.options;
    switch (op.opcode) {
      case B.CONV_2D: {
        if (o.kind !== 'conv2d') throw new Error('unreachable');
        const t = tensor(b);
        const [outC, h, w, inC] = t.shape as [number, number, number, number];
        const fold = inputFold?.conv === op ? inputFold : undefined;
        const factor = (scaleInputBy.get(op) ?? 1) * (fold?.scale ?? 1);
        const raw = tf.tensor4d(float32Data(t), [outC, h, w, inC]);
        const filter = keep(tf.tidy(() => {
          const f = tf.transpose(raw, [1, 2, 3, 0]);
          return factor === 1 ? f : tf.mul(f, factor);
        }) as tf.Tensor4D);
        raw.dispose();
        const bias = c >= 0 ? (constant(c) as tf.Tensor1D) : undefined;
        const act = fusedActivation(o.activation);
        const strides: [number, number] = [o.strideH, o.strideW];
        const dilations: [number, number] = [o.dilationH, o.dilationW];
        // x * s + o = (x - z) * s with z = -o / s, the raw value that scales to 0: one subtraction keeps the
        // zero padding exact (a padded copy of the input cost more than the three ops it saved).
        const zero = fold?.offset ? keep(tf.scalar(-fold.offset / fold.scale)) : undefined;
        add(op, (get) => {
          const x = (zero ? tf.sub(get(a), zero) : get(a)) as tf.Tensor4D;
          const y = tf.fused.conv2d({ x, filter, strides, pad: o.padding, dilations, bias, activation: act ?? 'linear' });
          return act ? y : applyActivation(y, o.activation);
        });
        break;
      }
      case B.DEPTHWISE_CONV_2D: {
        if (o.kind !== 'depthwise') throw new Error('unreachable');
        const t = tensor(b);
        const [, h, w, channels] = t.shape as [number, number, number, number];
        const factor = scaleInputBy.get(op) ?? 1;
        const filter = keep(tf.tidy(() => {
          // [1, h, w, in * mult] -> [h, w, in, mult]; the multiplier is derived from the input's channels at run time
          // in TFLite, but MobileNets use 1, and the option field is trusted when set.
          const mult = Math.max(1, o.depthMultiplier);
          const f = tf.tensor4d(float32Data(t), [h, w, channels / mult, mult]);
          return factor === 1 ? f : tf.mul(f, factor);
        }) as tf.Tensor4D);
        const bias = c >= 0 ? (constant(c) as tf.Tensor1D) : undefined;
        const act = fusedActivation(o.activation);
        const strides: [number, number] = [o.strideH, o.strideW];
        const dilations: [number, number] = [o.dilationH, o.dilationW];
        add(op, (get) => {
          const y = tf.fused.depthwiseConv2d({ x: get(a) as tf.Tensor4D, filter, strides, pad: o.padding, dilations, bias, activation: act ?? 'linear' });
          return act ? y : applyActivation(y, o.activation);
        });
        break;
      }
      case B.FULLY_CONNECTED: {
        if (o.kind !== 'fullyConnected') throw new Error('unreachable');
        if (o.weightsFormat !== 0) throw new TfliteUnsupportedError('Shuffled FULLY_CONNECTED weights are not supported.');
        const t = tensor(b);
        const [outC, inC] = t.shape as [number, number];
        const weights = keep(tf.tidy(() => tf.transpose(tf.tensor2d(float32Data(t), [outC, inC]))) as tf.Tensor2D);
        const bias = c >= 0 ? (constant(c) as tf.Tensor1D) : undefined;
        const act = fusedActivation(o.activation);
        add(op, (get) => {
          const x = get(a);
          const flat = tf.reshape(x, [-1, inC]) as tf.Tensor2D;
          const y = tf.fused.matMul({ a: flat, b: weights, bias, activation: act ?? 'linear' });
          const z = act ? y : applyActivation(y, o.activation);
          return o.keepNumDims ? tf.reshape(z, [...x.shape.slice(0, -1), outC]) : z;
        });
        break;
      }
      case B.ADD:
      case B.SUB:
      case B.MUL:
      case B.DIV: {
        if (o.kind !== 'elementwise') throw new Error('unreachable');
        const fn = op.opcode === B.ADD ? tf.add : op.opcode === B.SUB ? tf.sub : op.opcode === B.MUL ? tf.mul : tf.div;
        add(op, (get) => applyActivation(fn(get(a), get(b)), o.activation), constantsOf(op));
        break;
      }
      case B.HARD_SWISH: {
        const divide = !hardSwishNoDivide.has(op);
        add(op, (get) => hardSwish(get(a), divide, scalars));
        break;
      }
      case B.RELU:
        add(op, (get) => tf.relu(get(a)));
        break;
      case B.RELU6:
        add(op, (get) => tf.relu6(get(a)));
        break;
      case B.LOGISTIC:
        add(op, (get) => tf.sigmoid(get(a)));
        break;
      case B.MEAN: {
        if (o.kind !== 'reducer') throw new Error('unreachable');
        const axes = Array.from(int32Data(tensor(b)));
        // tfjs-wasm's Mean transposes NHWC to put H, W innermost before reducing; a full-window average
        // pool reads NHWC as it is (the squeeze-excite blocks' global pooling).
        const spatial = optimize && axes.length === 2 && axes.includes(1) && axes.includes(2);
        add(op, (get) => {
          const x = get(a);
          if (!spatial || x.rank !== 4) return tf.mean(x, axes, o.keepDims);
          const [, h, w, ch] = x.shape as [number, number, number, number];
          // The AvgPool kernel itself: `tf.avgPool` adds a float32 -> float32 Cast call per block.
          const pooled = tf.engine().runKernel(tf.AvgPool, { x }, { filterSize: [h, w], strides: 1, pad: 'valid' }) as tf.Tensor4D;
          return o.keepDims ? pooled : tf.reshape(pooled, [x.shape[0] as number, ch]);
        });
        break;
      }
      case B.AVERAGE_POOL_2D:
      case B.MAX_POOL_2D: {
        if (o.kind !== 'pool2d') throw new Error('unreachable');
        const pool = op.opcode === B.AVERAGE_POOL_2D ? tf.avgPool : tf.maxPool;
        const size: [number, number] = [o.filterH, o.filterW];
        const strides: [number, number] = [o.strideH, o.strideW];
        add(op, (get) => {
          const x = get(a) as tf.Tensor4D;
          // A 1x1 window with stride 1 is the identity (the embedder's last pool is one).
          const y = size[0] === 1 && size[1] === 1 && strides[0] === 1 && strides[1] === 1 ? tf.clone(x) : pool(x, size, strides, o.padding);
          return applyActivation(y, o.activation);
        });
        break;
      }
      case B.RESHAPE: {
        if (o.kind !== 'reshape') throw new Error('unreachable');
        const target = b !== undefined && b >= 0 && isConstant(b) ? Array.from(int32Data(tensor(b))) : o.newShape ?? tensor(op.outputs[0]).shape;
        add(op, (get) => tf.reshape(get(a), reshapeTarget(get(a), target)));
        break;
      }
      case B.SQUEEZE: {
        if (o.kind !== 'squeeze') throw new Error('unreachable');
        add(op, (get) => tf.squeeze(get(a), o.squeezeDims.length ? o.squeezeDims : undefined));
        break;
      }
      case B.SOFTMAX: {
        if (o.kind !== 'softmax') throw new Error('unreachable');
        add(op, (get) => tf.softmax(o.beta === 1 ? get(a) : tf.mul(get(a), o.beta)));
        break;
      }
      case B.CONCATENATION: {
        if (o.kind !== 'concatenation') throw new Error('unreachable');
        add(op, (get) => applyActivation(tf.concat(op.inputs.map(get), o.axis), o.activation), constantsOf(op));
        break;
      }
      case B.L2_NORMALIZATION:
        add(op, (get) => {
          const x = get(a);
          return tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, true), 1e-12)));
        });
        break;
      default:
        throw new TfliteUnsupportedError(`Operator ${operatorName(op.opcode)} is not supported.`);
    }
  }

  // Last step reading each dynamic tensor: it is disposed right after (graph inputs and outputs excepted).
  const lastUse = new Map<number, number>();
  steps.forEach((s, k) => s.inputs.forEach((i) => lastUse.set(i, k)));
  const release: number[][] = steps.map(() => []);
  for (const [i, k] of lastUse) if (!graph.inputs.includes(i) && !graph.outputs.includes(i)) release[k]?.push(i);

  const inputShape = tensor(graph.inputs[0]).shape;
  return {
    inputShape,
    outputShapes: graph.outputs.map((i) => tensor(i).shape),
    steps: steps.length,
    run: (...inputs) =>
      tf.tidy(() => {
        if (inputs.length !== graph.inputs.length) throw new Error(`Expected ${graph.inputs.length} input(s), got ${inputs.length}.`);
        const values: Values = [];
        const { scale, offset } = inputScale;
        const scaled = (x: tf.Tensor) => (inputFold || (scale === 1 && offset === 0) ? x : tf.add(tf.mul(x, scale), offset));
        graph.inputs.forEach((i, k) => (values[i] = scaled(inputs[k] as tf.Tensor)));
        steps.forEach((step, k) => {
          step.run(values);
          for (const i of release[k] ?? []) {
            values[i]?.dispose();
            values[i] = undefined;
          }
        });
        return graph.outputs.map((i) => values[i] as tf.Tensor);
      }),
    dispose: () => tf.dispose(kept),
  };
}
