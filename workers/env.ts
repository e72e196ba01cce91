/** The bindings and vars the worker reads (wrangler.toml, `.dev.vars`, `wrangler secret put`). */
export interface Env {
  /** Per-user examples (Workers KV). */
  EXAMPLES: KVNamespace;
  /** The model weights, served from the `models/` folder as static assets (never the script bundle). */
  MODELS: Fetcher;
  /** HS256 secret that signs users' bearer tokens. */
  JWT_SECRET: string;
  /** `mobilenet_v2_100` (accurate, default), `mobilenet_v3_small_075` or `mobilenet_v1_025` (both about 3x less CPU per image). */
  MODEL?: string;
  /** `"false"` turns off mirror-image averaging: half the CPU per image, about 1 point less accuracy. */
  FLIP?: string;
  /** Most examples one user may store (default 500). Bounds KV work per request; see README. */
  MAX_EXAMPLES_PER_USER?: string;
  /** Largest request body accepted, in bytes (default 8 MiB). */
  MAX_BODY_BYTES?: string;
}

/** A whole-number var, or `fallback` when unset; a malformed value is a deployment error, never ignored. */
export function countVar(env: Env, name: 'MAX_EXAMPLES_PER_USER' | 'MAX_BODY_BYTES', fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive whole number; it is ${JSON.stringify(raw)} (wrangler.toml [vars]).`);
  }
  return value;
}
