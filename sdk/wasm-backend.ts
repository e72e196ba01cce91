import * as tf from '@tensorflow/tfjs-core';
import { withTimeout } from './timeout.js';
import { wasmFileFor, wasmUrls, type WasmBuild, type WasmFile } from './wasm-files.js';

/** How long one attempt to start the WASM backend may take before it counts as failed (it never hangs). */
export const WASM_START_TIMEOUT_MS = 30_000;

/** What started: how many threads the WASM backend runs, and why threads were not used when they could have been. */
export interface WasmStarted {
  /** The build that runs: `threaded-simd` on cross-origin isolated pages, else `simd` (or `plain` without SIMD). */
  build: WasmBuild;
  /** Threads it runs: tfjs starts half the cores, at most 4, so 1 on a two-core device even when threaded. */
  threads: number;
  /** Set when the page could run threads but the threaded build failed and single-thread SIMD runs instead. */
  threadsFailure?: string;
}

/**
 * Starts tfjs's WASM backend and says how many threads it runs.
 *
 * The binary is fetched and checked (the `\0asm` magic) before tfjs sees it: a bundler or server that
 * did not ship the file answers 404 or its HTML fallback, which tfjs would feed to `WebAssembly.instantiate`
 * and, after that, refuse any other path for the rest of the page's life. The checked bytes are then
 * handed to tfjs, so the file is downloaded once. On a cross-origin isolated page the threaded build is
 * tried first; if it fails or does not start in time, single-thread SIMD runs instead.
 * @throws Error with the URL and the reason when no build starts.
 */
export async function startWasm(wasmPaths: string | Record<string, string> | undefined): Promise<WasmStarted> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const urls = wasmUrls(wasmPaths);
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threadsPossible = simd && (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  // A map, not a folder: tfjs picks the threaded build only when it was not given a single file.
  wasm.setWasmPaths(urls, true);
  if (threadsPossible) {
    try {
      await startBuild(urls, 'tfjs-backend-wasm-threaded-simd.wasm');
      return { build: 'threaded-simd', threads: wasm.getThreadsCount() };
    } catch (err) {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      const threadsFailure = err instanceof Error ? err.message : String(err);
      await startBuild(urls, wasmFileFor(simd, false));
      return { build: simd ? 'simd' : 'plain', threads: 1, threadsFailure };
    }
  }
  await startBuild(urls, wasmFileFor(simd, false));
  return { build: simd ? 'simd' : 'plain', threads: 1 };
}

/** One attempt: checked bytes of `file`, then `tf.setBackend('wasm')`, bounded in time. */
async function startBuild(urls: Record<WasmFile, string>, file: WasmFile): Promise<void> {
  const url = urls[file];
  const bytes = await fetchWasm(url, file);
  const platform = tf.env().platform;
  const platformFetch = platform.fetch;
  // tfjs fetches the binary through the platform (we passed usePlatformFetch): answer with the checked bytes.
  platform.fetch = (path: string, init?: RequestInit) =>
    path === url ? Promise.resolve(new Response(bytes, { headers: { 'content-type': 'application/wasm' } })) : platformFetch.call(platform, path, init);
  try {
    const started = await withTimeout(tf.setBackend('wasm'), WASM_START_TIMEOUT_MS, `${file} did not start within ${WASM_START_TIMEOUT_MS / 1000} s`);
    if (!started) throw new Error(`${file} from ${url} failed to start (see the console for tfjs's reason)`);
    await tf.ready();
  } finally {
    platform.fetch = platformFetch;
  }
}

async function fetchWasm(url: string, file: WasmFile): Promise<ArrayBuffer> {
  let response: Response;
  try {
    response = await withTimeout(fetch(url, { credentials: 'same-origin' }), WASM_START_TIMEOUT_MS, `no answer within ${WASM_START_TIMEOUT_MS / 1000} s`);
  } catch (cause) {
    throw new Error(`${file} could not be fetched from ${url}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  const bytes = response.ok ? await response.arrayBuffer() : new ArrayBuffer(0);
  const magic = new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  if (!response.ok || magic.join() !== '0,97,115,109') {
    const what = response.ok ? `${response.headers.get('content-type') ?? 'no content-type'}, not WebAssembly` : `HTTP ${response.status}`;
    throw new Error(`${file} is not served at ${url} (${what}): serve the .wasm files from fewshot-edge/dist/sdk/ and pass their folder as \`wasmPaths\``);
  }
  return bytes;
}
