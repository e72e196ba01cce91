import { base64ToFloat32 } from './codec.js';
import { type FeatureTransform, type HeadKind, type HeadOptions } from './head.js';
import type { ModelSpec } from './models.js';
import { REFERENCE_MEANS_BASE64 } from './reference-means.js';

/** Head settings a user may change; the defaults come from the model (see `ModelSpec`). */
export interface HeadSettings {
  kind?: HeadKind;
  k?: number;
  temperature?: number;
  /**
   * Cosine similarity (after the transform) under which `classify` answers `unknown: true`. Default: the
   * model's measured threshold; `null` turns "unknown" off.
   */
  unknownThreshold?: number | null;
  /** `'plain'` compares raw embeddings by cosine (the classic prototype head); default `'centred'`. */
  transform?: 'centred' | 'plain';
}

const means = new Map<string, Float32Array>();

/** The model's reference mean (decoded once). */
export function referenceMean(spec: ModelSpec): Float32Array {
  let mean = means.get(spec.name);
  if (!mean) {
    mean = base64ToFloat32(REFERENCE_MEANS_BASE64[spec.name]);
    means.set(spec.name, mean);
  }
  return mean;
}

/** Full head options for a model from a user's (partial) settings. */
export function headOptions(spec: ModelSpec, settings: HeadSettings = {}): HeadOptions {
  const plain = settings.transform === 'plain';
  const transform: FeatureTransform | undefined = plain ? undefined : { power: spec.power, referenceMean: referenceMean(spec), prior: spec.centringPrior };
  return {
    dim: spec.dim,
    kind: settings.kind ?? 'prototype',
    k: settings.k ?? 10,
    temperature: settings.temperature ?? (plain ? spec.plainTemperature : spec.temperature),
    // A temperature set by hand is used as it is.
    temperatureGrowth: plain || settings.temperature !== undefined ? 0 : spec.temperatureGrowth,
    unknownThreshold: settings.unknownThreshold === undefined ? (plain ? null : spec.unknownThreshold) : settings.unknownThreshold,
    // Calibration adapts to the user's examples unless the head is plain or its temperature or threshold was set by hand.
    calibrationWeight: plain || settings.temperature !== undefined ? null : spec.calibrationWeight,
    unknownSpread: plain || settings.unknownThreshold !== undefined ? null : spec.unknownSpread,
    ...(transform ? { transform } : {}),
  };
}
