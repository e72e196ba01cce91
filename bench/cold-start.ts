/**
 * Child process: cold start of ONE side, from the first line of this script to the first embedding of a
 * real image. Measured: dynamic import of the library, WASM backend init, weight loading (and, for ours,
 * the warm-up run loadEmbedder does), then embedding one JPEG. Reading the JPEG file is done before the
 * clock starts. Prints one JSON line on stdout.
 *
 * No static imports besides Node built-ins, so nothing of either library loads before `t0`.
 * Sides: `ours` (library default, a worker-thread pool, which answers from the calling thread while its
 * threads start), `ours-thread` (`workers: 0`), `peer`. For `ours`, after the clock stops, the child also
 * waits for the pool's threads and reports when they took over (`pool_ready_ms`, from `t0`).
 * Usage: node --import tsx bench/cold-start.ts ours|ours-thread|peer <model> <image.jpg>
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

export type ColdStartSide = 'ours' | 'ours-thread' | 'peer';

export interface ColdStartResult {
  side: ColdStartSide;
  /** From `t0` to the first embedding's values. */
  ms: number;
  phases: { import_ms: number; backend_ms: number; load_ms: number; first_embed_ms: number };
  /** `ours`: from `t0` until the pool's threads take the requests (after the first embedding); else null. */
  pool_ready_ms: number | null;
  /** Node + tsx start-up before `t0` (performance.now() counts from process start). */
  startup_ms: number;
  backend: string;
  dim: number;
  peak_rss_mb: number;
}

type ModelName = 'mobilenet_v2_100' | 'mobilenet_v1_025';

async function main(): Promise<void> {
  const [side, model, imagePath] = process.argv.slice(2) as [ColdStartSide, ModelName, string];
  if (!['ours', 'ours-thread', 'peer'].includes(side) || !model || !imagePath) {
    throw new Error('usage: cold-start.ts ours|ours-thread|peer <model> <image.jpg>');
  }
  const bytes = new Uint8Array(await readFile(imagePath));

  const t0 = performance.now();
  const marks: number[] = [];
  const mark = (): void => void marks.push(performance.now());
  let embedding: Float32Array;
  let backend: string;
  let dispose: () => void;
  let poolReady: Promise<number> | undefined;
  if (side !== 'peer') {
    const lib = await import('./ours.js');
    mark();
    // In-thread, loadNodeEmbedder would init the backend itself; done first only to time it apart. A pool
    // initialises the calling thread's backend inside its load, so its backend_ms stays ~0.
    if (side === 'ours-thread') await (await import('../dist/node/backend.js')).useWasmBackend();
    mark();
    const embedder = await lib.loadOurs(model, side === 'ours' ? 'default' : 'thread', { waitForThreads: false });
    mark();
    if (side === 'ours') poolReady = lib.threadsReady(embedder).then(() => performance.now());
    embedding = await embedder.embed(bytes);
    backend = embedder.backend;
    dispose = () => embedder.dispose();
  } else {
    const [{ loadPeer }, { useWasmBackend }] = await Promise.all([import('./peer.js'), import('../node/backend.js')]);
    mark();
    await useWasmBackend();
    mark();
    const peer = await loadPeer(model);
    mark();
    embedding = await peer.embed(bytes);
    backend = (await import('@tensorflow/tfjs-core')).getBackend();
    dispose = () => peer.dispose();
  }
  const t1 = performance.now();
  const [imported, backendReady, loaded] = marks as [number, number, number];
  // After the clock: a pool whose threads fail to start fails this run.
  const poolReadyAt = poolReady ? await poolReady : undefined;
  const result: ColdStartResult = {
    side,
    ms: t1 - t0,
    phases: { import_ms: imported - t0, backend_ms: backendReady - imported, load_ms: loaded - backendReady, first_embed_ms: t1 - loaded },
    pool_ready_ms: poolReadyAt === undefined ? null : poolReadyAt - t0,
    startup_ms: t0,
    backend,
    dim: embedding.length,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  dispose(); // a pool's threads would otherwise keep the process alive
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
