/** Loads the cached development embeddings (see `scripts/embed-datasets.ts`) as class lists, for research. */
import { join } from 'node:path';
import { EmbeddingCache } from '../node/embedding-cache.js';
import { scanImageClasses } from '../node/dataset.js';
import { MODELS, type ModelName } from '../src/models.js';
import { datasetsDir, defaultCacheDir, DEV_DOMAINS, DEV_SETS } from './dev-data.js';

export interface EmbeddedClass {
  name: string;
  /** Plain embeddings, one per image. */
  items: Float32Array[];
  /** Embeddings of the mirrored images, same order (empty when not embedded yet). */
  flipped: Float32Array[];
  /** The image files, same order (for caches of other views of them). */
  paths: string[];
}

/** The flip-averaged embedding of each image, as the classifier makes them by default. */
export function flipAveraged(c: EmbeddedClass): Float32Array[] {
  return c.items.map((plain, i) => {
    const flip = flipOf(c, i);
    return plain.map((v, d) => (v + (flip[d] as number)) / 2);
  });
}

export type DevSet = keyof typeof DEV_SETS;
export type DevDomain = keyof typeof DEV_DOMAINS;

/** The seven development domains of a model from the cache (`scripts/embed-datasets.ts`). */
export function loadDevDomains(model: ModelName, maxClasses = Infinity): Promise<Record<DevDomain, EmbeddedClass[]>> {
  return loadDevSets(model, DEV_DOMAINS, maxClasses);
}

/** Every development set of a model from the cache; fails when an image was never embedded. */
export async function loadDevSets<Name extends string = DevSet>(
  model: ModelName,
  folders: Record<Name, string> = DEV_SETS as unknown as Record<Name, string>,
  maxClasses = Infinity,
): Promise<Record<Name, EmbeddedClass[]>> {
  const spec = MODELS[model];
  const plain = await EmbeddingCache.open(defaultCacheDir(), `${model}@${spec.version}`, spec.dim);
  const flip = await EmbeddingCache.open(defaultCacheDir(), `${model}@${spec.version}+flip`, spec.dim);
  const optional = async (cache: EmbeddingCache, paths: string[]) => {
    const found = await Promise.all(paths.map((p) => cache.get(p)));
    return found.every(Boolean) ? (found as Float32Array[]) : [];
  };
  const get = async (cache: EmbeddingCache, path: string) => {
    const v = await cache.get(path);
    if (!v) throw new Error(`${path} is not in the embedding cache: run npx tsx scripts/embed-datasets.ts first.`);
    return v;
  };
  const out = {} as Record<Name, EmbeddedClass[]>;
  for (const [name, dir] of Object.entries(folders) as [Name, string][]) {
    out[name] = await Promise.all(
      scanImageClasses(join(datasetsDir(), dir)).slice(0, maxClasses).map(async (c) => ({
        name: c.name,
        items: await Promise.all(c.items.map((p) => get(plain, p))),
        flipped: await optional(flip, c.items),
        paths: c.items,
      })),
    );
  }
  return out;
}

/**
 * The reference mean a head centres on (`FeatureTransform.referenceMean`): the mean of the flip-averaged,
 * power-transformed (sign-preserving: MobileNetV3's hard-swish outputs can be negative), L2-normalised
 * embeddings of some classes (Caltech-101's photos, standing in for ImageNet).
 */
export function transformedMean(classes: readonly EmbeddedClass[], power: number): Float32Array {
  // Averaged in double precision (not `flipAveraged`'s float32), as the shipped means were computed.
  const averaged = classes.flatMap((c) => c.items.map((raw, i) => {
    const flip = flipOf(c, i);
    return Array.from(raw, (v, d) => (v + (flip[d] as number)) / 2);
  }));
  return powerNormalisedMean(averaged, power);
}

/** The mean of vectors after a sign-preserving power and L2 normalisation. */
export function powerNormalisedMean(vectors: readonly ArrayLike<number>[], power: number): Float32Array {
  const mean = new Float64Array(vectors[0]?.length ?? 0);
  for (const vector of vectors) {
    const x = Array.from(vector, (v) => Math.sign(v) * Math.abs(v) ** power);
    const norm = Math.sqrt(x.reduce((a, v) => a + v * v, 0));
    x.forEach((v, d) => ((mean[d] as number) += v / norm));
  }
  return Float32Array.from(mean, (v) => v / vectors.length);
}

function flipOf(c: EmbeddedClass, i: number): Float32Array {
  const flip = c.flipped[i];
  if (!flip) throw new Error(`${c.name}: the flipped embeddings are not in the cache (embed the flip variant).`);
  return flip;
}
