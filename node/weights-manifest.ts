/** Reading a TF.js `model.json` far enough to know which shard files it needs and how many bytes they hold. */

/** One weights group: shard files that, concatenated, hold `bytes` bytes (`null` when not computable). */
export interface ShardGroup {
  paths: string[];
  bytes: number | null;
}

interface WeightEntry {
  shape?: number[];
  dtype?: string;
  quantization?: { dtype?: string };
}

const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Stored bytes of one weight, or `null` for dtypes of variable size (strings) or an unknown layout. */
function weightBytes(weight: WeightEntry): number | null {
  const dtype = weight.quantization?.dtype ?? weight.dtype;
  const size = dtype === undefined ? undefined : BYTES_PER_ELEMENT[dtype];
  if (size === undefined || !Array.isArray(weight.shape)) return null;
  return weight.shape.reduce((n, d) => n * d, size);
}

/**
 * The shard groups a parsed `model.json` names.
 * @throws Error with a short reason when the JSON is not a TF.js model with a weights manifest.
 */
export function shardGroups(modelJson: unknown): ShardGroup[] {
  const manifest = (modelJson as { weightsManifest?: unknown } | null)?.weightsManifest;
  if (!Array.isArray(manifest)) throw new Error('it has no weightsManifest');
  return manifest.map((group: { paths?: unknown; weights?: WeightEntry[] }) => {
    if (!Array.isArray(group.paths) || !group.paths.every((p) => typeof p === 'string' && p !== '' && !/(^|[\\/])\.\.([\\/]|$)|^[\\/]/.test(p))) {
      // Shard paths become file names: refuse anything that could leave the model folder.
      throw new Error('its weightsManifest names invalid shard paths');
    }
    const sizes = Array.isArray(group.weights) ? group.weights.map(weightBytes) : [null];
    const bytes = sizes.includes(null) ? null : (sizes as number[]).reduce((a, b) => a + b, 0);
    return { paths: group.paths as string[], bytes };
  });
}
