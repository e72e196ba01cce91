import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * Inference-only rewrite of a Keras MobileNet layers model: every Conv2D / DepthwiseConv2D followed by a
 * BatchNormalization gets the normalisation folded into its kernel and bias, and a following ReLU6 becomes
 * the convolution's fused activation (the standard "BN folding" of inference engines; Jacob et al., CVPR 2018,
 * section 3.2). MobileNetV2 then runs 52 convolutions instead of 139 separate ops plus per-layer
 * bookkeeping, with the same result up to float rounding.
 */

type Activation = 'linear' | 'relu' | 'relu6';

interface ConvStep {
  kind: 'conv' | 'depthwise';
  input: string;
  output: string;
  kernel: tf.Tensor4D;
  bias: tf.Tensor1D;
  strides: [number, number];
  padding: 'same' | 'valid';
  activation: Activation;
}

type Step =
  | ConvStep
  | { kind: 'add'; inputs: string[]; output: string }
  | { kind: 'pool'; input: string; output: string };

interface LayerInfo {
  className: string;
  config: Record<string, unknown>;
  inputs: string[];
  weights: tf.Tensor[];
}

function describeLayers(model: LayersModel): Map<string, LayerInfo> {
  const layers = new Map<string, LayerInfo>();
  for (const layer of model.layers) {
    const node = layer.inboundNodes[0];
    layers.set(layer.name, {
      className: layer.getClassName(),
      config: layer.getConfig() as Record<string, unknown>,
      inputs: node ? node.inboundLayers.map((l) => l.name) : [],
      weights: layer.getWeights(),
    });
  }
  return layers;
}

function pair(value: unknown): [number, number] {
  return Array.isArray(value) ? [Number(value[0]), Number(value[1])] : [Number(value), Number(value)];
}

/**
 * A function computing `outputName` of `model` with folded batch norms, or `null` when the model has a
 * layer this rewrite does not know (the caller then runs the model as it is). The caller owns the
 * returned `dispose`; the original model can be disposed once this returns.
 */
export function fuseLayersModel(
  model: LayersModel,
  outputName: string,
): { run: (input: tf.Tensor4D) => tf.Tensor2D; dispose: () => void; dim: number } | null {
  const layers = describeLayers(model);
  const consumers = new Map<string, string[]>();
  for (const [name, info] of layers) for (const input of info.inputs) consumers.set(input, [...(consumers.get(input) ?? []), name]);
  const soleConsumer = (name: string, className: string): string | undefined => {
    const next = consumers.get(name);
    return next?.length === 1 && layers.get(next[0] as string)?.className === className ? next[0] : undefined;
  };

  const steps: Step[] = [];
  const kept: tf.Tensor[] = [];
  const alias = new Map<string, string>(); // layer name -> the step output that holds its value
  const resolve = (name: string) => alias.get(name) ?? name;
  const channels = new Map<string, number>(); // step output -> its channel count, for the embedding length
  let inputName: string | undefined;
  const giveUp = () => {
    tf.dispose(kept);
    return null;
  };

  for (const [name, layer] of layers) {
    if (alias.has(name)) continue; // folded into an earlier step
    if (layer.className === 'InputLayer') {
      inputName = name;
    } else if (layer.className === 'Conv2D' || layer.className === 'DepthwiseConv2D') {
      const step = foldConvolution(name, layer, layers, soleConsumer);
      if (!step || layer.inputs.length !== 1) return giveUp();
      step.input = resolve(layer.inputs[0] as string);
      kept.push(step.kernel, step.bias);
      for (const folded of step.folded) alias.set(folded, step.output);
      channels.set(step.output, step.kernel.shape[step.kind === 'depthwise' ? 2 : 3]);
      steps.push(step);
    } else if (layer.className === 'Add') {
      steps.push({ kind: 'add', inputs: layer.inputs.map(resolve), output: name });
      channels.set(name, channels.get(resolve(layer.inputs[0] as string)) ?? 0);
    } else if (layer.className === 'GlobalAveragePooling2D') {
      steps.push({ kind: 'pool', input: resolve(layer.inputs[0] as string), output: name });
      channels.set(name, channels.get(resolve(layer.inputs[0] as string)) ?? 0);
    } else {
      return giveUp();
    }
    if (name === outputName || alias.get(outputName) !== undefined) break;
  }
  const output = resolve(outputName);
  if (!inputName || !steps.some((s) => s.output === output)) return giveUp();

  return {
    run: (input) =>
      tf.tidy(() => {
        const values = new Map<string, tf.Tensor>([[inputName as string, input]]);
        const get = (name: string) => values.get(name) as tf.Tensor4D;
        for (const step of steps) values.set(step.output, apply(step, get));
        return values.get(output) as tf.Tensor2D;
      }),
    dispose: () => tf.dispose(kept),
    dim: channels.get(output) ?? 0,
  };
}

function apply(step: Step, get: (name: string) => tf.Tensor4D): tf.Tensor {
  switch (step.kind) {
    case 'conv':
      return tf.fused.conv2d({ x: get(step.input), filter: step.kernel, strides: step.strides, pad: step.padding, bias: step.bias, activation: step.activation });
    case 'depthwise':
      return tf.fused.depthwiseConv2d({ x: get(step.input), filter: step.kernel, strides: step.strides, pad: step.padding, bias: step.bias, activation: step.activation });
    case 'add':
      return step.inputs.map(get).reduce((a, b) => tf.add(a, b));
    case 'pool':
      return tf.mean(get(step.input), [1, 2]);
  }
}

/** Folds the batch norm (and ReLU6) after a convolution into it; `null` if the pattern is not there. */
function foldConvolution(
  name: string,
  layer: LayerInfo,
  layers: Map<string, LayerInfo>,
  soleConsumer: (name: string, className: string) => string | undefined,
): (ConvStep & { folded: string[] }) | null {
  const { config } = layer;
  const depthwise = layer.className === 'DepthwiseConv2D';
  if (config.activation !== 'linear' || (depthwise && Number(config.depth_multiplier ?? 1) !== 1)) return null;
  if (String(config.data_format ?? 'channels_last') !== 'channels_last' || pair(config.dilation_rate ?? 1).some((d) => d !== 1)) return null;
  const [kernel, convBias] = layer.weights as [tf.Tensor4D, tf.Tensor1D | undefined];
  const channels = kernel.shape[depthwise ? 2 : 3];
  const folded: string[] = [];
  let output = name;
  let scale: tf.Tensor1D = tf.ones([channels]);
  let shift: tf.Tensor1D = convBias ? convBias.clone() : tf.zeros([channels]);

  const bnName = soleConsumer(name, 'BatchNormalization');
  if (bnName) {
    const bn = layers.get(bnName) as LayerInfo;
    if (bn.config.scale === false || bn.config.center === false || bn.weights.length !== 4) return null;
    const [gamma, beta, mean, variance] = bn.weights as tf.Tensor1D[];
    const epsilon = Number(bn.config.epsilon ?? 1e-3);
    const bnScale = tf.tidy(() => tf.div(gamma as tf.Tensor1D, tf.sqrt(tf.add(variance as tf.Tensor1D, epsilon))) as tf.Tensor1D);
    const next = tf.tidy(() => tf.add(tf.mul(tf.sub(shift, mean as tf.Tensor1D), bnScale), beta as tf.Tensor1D) as tf.Tensor1D);
    tf.dispose([scale, shift]);
    scale = bnScale;
    shift = next;
    folded.push(bnName);
    output = bnName;
  }
  let activation: Activation = 'linear';
  const actName = soleConsumer(output, 'Activation') ?? soleConsumer(output, 'ReLU');
  if (actName) {
    const act = layers.get(actName) as LayerInfo;
    const relu6 = act.config.activation === 'relu6' || (act.className === 'ReLU' && Number(act.config.max_value) === 6);
    const relu = act.config.activation === 'relu' || (act.className === 'ReLU' && act.config.max_value == null);
    if (relu6 || relu) {
      activation = relu6 ? 'relu6' : 'relu';
      folded.push(actName);
      output = actName;
    }
  }
  // Scale each output channel: the last axis of a Conv2D kernel, the input-channel axis of a depthwise one.
  const scaledKernel = tf.tidy(() => tf.mul(kernel, depthwise ? tf.reshape(scale, [1, 1, channels, 1]) : scale) as tf.Tensor4D);
  scale.dispose();
  return {
    kind: depthwise ? 'depthwise' : 'conv',
    input: '',
    output,
    kernel: scaledKernel,
    bias: shift,
    strides: pair(config.strides ?? 1),
    padding: config.padding === 'valid' ? 'valid' : 'same',
    activation,
    folded,
  };
}
