/**
 * Child process: cold start of ONE side, from the first line of this script to the first embedding of a
 * real image. Measured: dynamic import of the library, WASM backend init, weight loading (and, for ours,
 * the warm-up run loadEmbedder does), then embedding one JPEG. Reading the JPEG file is done before the
 * clock starts. Prints one JSON line on stdout.
 *
 * No static imports besides Node built-ins, so nothing of either library loads before `t0`.
 * Usage: node --import tsx bench/cold-start.ts ours|peer <model> <image.jpg>
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

export interface ColdStartResult {
  side: 'ours' | 'peer';
  /** From `t0` to the first embedding's values. */
  ms: number;
  phases: { import_ms: number; backend_ms: number; load_ms: number; first_embed_ms: number };
  /** Node + tsx start-up before `t0` (performance.now() counts from process start). */
  startup_ms: number;
  backend: string;
  dim: number;
  peak_rss_mb: number;
}

type ModelName = 'mobilenet_v2_100' | 'mobilenet_v1_025';

async function main(): Promise<void> {
  const [side, model, imagePath] = process.argv.slice(2) as ['ours' | 'peer', ModelName, string];
  if ((side !== 'ours' && side !== 'peer') || !model || !imagePath) throw new Error('usage: cold-start.ts ours|peer <model> <image.jpg>');
  const bytes = new Uint8Array(await readFile(imagePath));

  const t0 = performance.now();
  const marks: number[] = [];
  const mark = (): void => void marks.push(performance.now());
  let embedding: Float32Array;
  if (side === 'ours') {
    const lib = await import('../node/index.js');
    mark();
    await lib.useWasmBackend(); // loadNodeEmbedder would do it too; called first only to time it apart
    mark();
    const embedder = await lib.loadNodeEmbedder(model);
    mark();
    embedding = await embedder.embed(bytes);
  } else {
    const [{ loadPeer }, { useWasmBackend }] = await Promise.all([import('./peer.js'), import('../node/backend.js')]);
    mark();
    await useWasmBackend();
    mark();
    const peer = await loadPeer(model);
    mark();
    embedding = await peer.embed(bytes);
  }
  const t1 = performance.now();
  const tf = await import('@tensorflow/tfjs-core');
  const [imported, backendReady, loaded] = marks as [number, number, number];
  const result: ColdStartResult = {
    side,
    ms: t1 - t0,
    phases: { import_ms: imported - t0, backend_ms: backendReady - imported, load_ms: loaded - backendReady, first_embed_ms: t1 - loaded },
    startup_ms: t0,
    backend: tf.getBackend(),
    dim: embedding.length,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
