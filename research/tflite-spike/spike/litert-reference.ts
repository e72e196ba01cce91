/**
 * The reference engine: Google's @litertjs/core (LiteRT.js, XNNPack in wasm) on the same .tflite, in Node.
 *
 * Its loader is written for browsers (it runs the emscripten glue with `importScripts` or a <script> tag and
 * reads `self.ModuleFactory`). The shim below defines `self` and an `importScripts` that evaluates the glue
 * as a CommonJS-style function, so the glue's own Node branch (fs.readFileSync of the .wasm next to it) runs.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

/**
 * The shim lives only while LiteRT's glue loads: a global `importScripts` makes other emscripten glue in the
 * same process (tfjs-backend-wasm's!) believe it runs in a web worker and look for its .wasm in the wrong
 * place, so it is removed again right after.
 */
async function withBrowserShim<T>(load: () => Promise<T>): Promise<T> {
  const g = globalThis as Record<string, unknown>;
  const hadSelf = 'self' in g;
  g.self ??= globalThis;
  g.importScripts = (url: string) => {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    const source = readFileSync(file, 'utf8');
    const wrapped = vm.runInThisContext(
      `(function (require, __dirname, __filename) {\n${source}\n;globalThis.ModuleFactory = ModuleFactory;\n})`,
      { filename: file },
    ) as (require: NodeRequire, dirname: string, filename: string) => void;
    wrapped(createRequire(file), dirname(file), file);
  };
  try {
    return await load();
  } finally {
    delete g.importScripts;
    if (!hadSelf) delete g.self;
  }
}

const litert = await import('@litertjs/core');

export const LITERT_WASM_DIR = join(dirname(createRequire(import.meta.url).resolve('@litertjs/core')), '..', 'wasm') + '/';

export interface LitertRunner {
  /** Which glue file was loaded (compat = no relaxed SIMD). */
  readonly build: string;
  /** One NHWC float32 input, the model's first output copied out. */
  run(input: Float32Array, shape: number[]): Promise<Float32Array>;
  dispose(): void;
}

export async function loadLitert(modelBytes: Uint8Array): Promise<LitertRunner> {
  await withBrowserShim(() => litert.loadLiteRt(LITERT_WASM_DIR));
  const relaxed = await litert.supportsFeature('relaxedSimd');
  const model = await litert.loadAndCompile(modelBytes, { accelerator: 'wasm' });
  return {
    build: relaxed ? 'litert_wasm_internal (relaxed SIMD)' : 'litert_wasm_compat_internal (no relaxed SIMD)',
    async run(input, shape) {
      const tensor = new litert.Tensor(input, shape);
      const outputs = await model.run(tensor);
      tensor.delete();
      const out = outputs[0];
      if (!out) throw new Error('LiteRT returned no output.');
      const values = (out.toTypedArray() as Float32Array).slice();
      for (const o of outputs) o.delete();
      return values;
    },
    dispose() {
      model.delete();
    },
  };
}
