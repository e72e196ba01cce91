/**
 * Worker-thread entry of `./litert.ts`: Google's @litertjs/core (XNNPack in wasm, single-threaded build) on
 * one `.tflite`. Its loader is written for browsers (it runs the emscripten glue with `importScripts` and
 * reads `self.ModuleFactory`), so this thread defines `self` and an `importScripts` that evaluates the glue
 * as a CommonJS-style function; the glue's own Node branch then reads the .wasm beside it. The shim lives
 * in this thread's globals only: tfjs-backend-wasm's glue in the parent would take a global `importScripts`
 * as a sign that it runs in a web worker and look for its .wasm in the wrong place.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import type { LitertReply, LitertRequest, LitertWorkerData } from './litert-protocol.js';

function installBrowserShim(): void {
  const g = globalThis as Record<string, unknown>;
  g.self ??= globalThis;
  g.importScripts = (url: string) => {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    const wrapped = vm.runInThisContext(
      `(function (require, __dirname, __filename) {\n${readFileSync(file, 'utf8')}\n;globalThis.ModuleFactory = ModuleFactory;\n})`,
      { filename: file },
    ) as (require: NodeRequire, dirname: string, filename: string) => void;
    wrapped(createRequire(file), dirname(file), file);
  };
}

const port = parentPort;
if (!port) throw new Error('litert-worker.ts runs as a worker thread (see test/reference/litert.ts).');
const { modelPath } = workerData as LitertWorkerData;

installBrowserShim();
const litert = await import('@litertjs/core');
const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@litertjs/core')), '..', 'wasm') + '/';
await litert.loadLiteRt(wasmDir);
const relaxed = await litert.supportsFeature('relaxedSimd');
const model = await litert.loadAndCompile(new Uint8Array(readFileSync(modelPath)), { accelerator: 'wasm' });
const version = (createRequire(import.meta.url)('@litertjs/core/package.json') as { version: string }).version;

/** One NHWC float32 input through the model; its first output copied out. */
async function runOne(input: Float32Array, shape: number[]): Promise<Float32Array> {
  const tensor = new litert.Tensor(input, shape);
  const outputs = await model.run(tensor);
  tensor.delete();
  try {
    const out = outputs[0];
    if (!out) throw new Error('LiteRT returned no output.');
    return (out.toTypedArray() as Float32Array).slice();
  } finally {
    for (const o of outputs) o.delete();
  }
}

port.on('message', async (request: LitertRequest) => {
  try {
    const outputs: Float32Array[] = [];
    const runMs: number[] = [];
    // The model's input is fixed at batch 1: a request's images run one after the other.
    for (const input of request.inputs) {
      const t0 = performance.now();
      outputs.push(await runOne(input, request.shape));
      runMs.push(performance.now() - t0);
    }
    const reply: LitertReply = { id: request.id, outputs, runMs };
    port.postMessage(reply, outputs.map((o) => o.buffer as ArrayBuffer));
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies LitertReply);
  }
});
port.postMessage({
  ready: `@litertjs/core ${version}, ${relaxed ? 'litert_wasm_internal (relaxed SIMD)' : 'litert_wasm_compat_internal (no relaxed SIMD)'}, single-threaded`,
} satisfies LitertReply);
