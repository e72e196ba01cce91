/**
 * The browser build of the SDK: `npm run build:sdk` (part of `npm run build`) writes `dist/sdk/`:
 *
 *  - `index.js`: ESM entry (target es2022, minified), tfjs and every other dependency bundled; any page can
 *    `import { createClassifier } from './dist/sdk/index.js'` without a bundler or an import map
 *  - `*-[hash].js`: chunks for what sdk/backend.ts and src/embedder.ts import dynamically (the WebGPU, WASM and
 *    cpu backends, tfjs-layers for v2, @tensorflow-models/mobilenet + tfjs-converter for v1, `tflite-*.js`: the
 *    .tflite reader and runner with flatbuffers for v3), so a page downloads only the backend and model format
 *    it uses. All chunks sit flat beside `index.js`.
 *  - the three tfjs `.wasm` binaries, beside `index.js`: the WASM backend's default `wasmPaths` is
 *    `new URL('./', import.meta.url)`, i.e. this folder
 *  - type declarations: `tsc -p sdk/tsconfig.build.json` (the second half of `build:sdk`)
 *
 * `npx tsx bench/sdk-size.ts` reports what each path downloads, gzip -9.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The binaries `setWasmPaths(folder)` makes tfjs fetch: plain, SIMD, and SIMD + threads (cross-origin isolated pages). */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/**
 * `index.d.ts` beside `index.js`: tsc (sdk/tsconfig.build.json) writes the SDK's declarations and the core's
 * they re-export under `types/`, keeping src/ and sdk/ side by side as the relative imports need.
 */
function typesEntry(): Plugin {
  return {
    name: 'fewshot-sdk-types-entry',
    apply: 'build',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'index.d.ts', source: "export * from './types/sdk/index.js';\n" });
      this.emitFile({ type: 'asset', fileName: 'worker.d.ts', source: "export type { WorkerApi } from './types/sdk/worker.js';\n" });
    },
  };
}

/** Emits the tfjs `.wasm` files beside the entry, from the installed @tensorflow/tfjs-backend-wasm (same version as the bundled JS). */
function copyWasmBinaries(): Plugin {
  const wasmDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  return {
    name: 'fewshot-sdk-wasm-binaries',
    apply: 'build',
    generateBundle() {
      for (const fileName of WASM_FILES) {
        this.emitFile({ type: 'asset', fileName, source: readFileSync(join(wasmDist, fileName)) });
      }
    },
  };
}

/**
 * `THIRD_PARTY_LICENSES.txt` beside the bundle: name, version, licence and licence text of every package
 * bundled in it. The minifier drops the libraries' own licence headers; their licences (Apache-2.0 for
 * TensorFlow.js) ask for the notice to travel with the code.
 */
function licenseNotices(): Plugin {
  return {
    name: 'fewshot-sdk-licenses',
    apply: 'build',
    generateBundle(_, bundle) {
      const roots = new Set<string>();
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        for (const id of chunk.moduleIds) {
          const match = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(id);
          if (match) roots.add(match[1]!);
        }
      }
      const notices = [...roots].sort().map((root) => {
        const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
        const file = readdirSync(root).find((f) => /^(licen[cs]e|copying)/i.test(f));
        const text = file ? readFileSync(join(root, file), 'utf8').trim() : `(no licence file; package.json says ${pkg.license ?? 'nothing'})`;
        return `${pkg.name}@${pkg.version} (${pkg.license ?? 'see text'})\n\n${text}\n`;
      });
      this.emitFile({ type: 'asset', fileName: 'THIRD_PARTY_LICENSES.txt', source: notices.join(`\n${'-'.repeat(78)}\n\n`) });
    },
  };
}

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/**
 * The bundle is for browsers: fails the build when our own code (src/, sdk/) imports a Node builtin or
 * anything from node/. Third-party CommonJS that `require`s builtins behind runtime checks (Emscripten's
 * glue in tfjs-backend-wasm: `fs`, `path`, `worker_threads` when ENVIRONMENT_IS_NODE; seedrandom's
 * `crypto` fallback) gets Vite's empty browser stub, which those guarded code paths never touch in a page.
 */
function noNodeCode(): Plugin {
  const fromNodeModules = (id: string | undefined): boolean => !!id && id.includes(`${'/'}node_modules${'/'}`);
  return {
    name: 'fewshot-sdk-no-node-code',
    apply: 'build',
    enforce: 'pre',
    resolveId(source, importer) {
      if (NODE_BUILTINS.has(source) && !fromNodeModules(importer)) {
        this.error(`Node builtin "${source}" imported by ${importer ?? 'the entry'}: the browser SDK must not contain Node-only code.`);
      }
      return null;
    },
    generateBundle(_, bundle) {
      const nodeDir = join(repoRoot, 'node') + '/';
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        const nodeModule = chunk.moduleIds.find((id) => id.startsWith(nodeDir));
        if (nodeModule) this.error(`${chunk.fileName} contains ${nodeModule}: the browser SDK must not contain Node-only code.`);
        // Vite rewrites `new URL('<literal>', import.meta.url)` into an asset URL, and resolves './' to sdk/index.ts
        // (inlined as a data: URL): sdk/backend.ts's default wasmPaths needs its /* @vite-ignore */.
        if (/new URL\([`'"]data:/.test(chunk.code)) this.error(`${chunk.fileName}: a \`new URL(..., import.meta.url)\` became a data: URL.`);
      }
    },
  };
}

/**
 * WASM threads survive any minifier. tfjs starts each pthread worker from
 * `'var WasmBackendModuleThreadedSimd = ' + wasmFactoryThreadedSimd.toString()`: the source text of a
 * function that, once bundled and minified, names variables of its old scope (`e is not defined` in every
 * worker, and the page waits forever). Our build, and any app's bundler after it, would break it. So that
 * expression becomes a string literal of the Emscripten glue as tfjs ships it, which no minifier touches.
 */
function threadedGlueAsText(): Plugin {
  const wasmOut = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const expression = 'wasmFactoryThreadedSimd.toString()';
  return {
    name: 'fewshot-sdk-threaded-glue-as-text',
    apply: 'build',
    transform(code, id) {
      if (!/tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/.test(id)) return null;
      if (!code.includes(expression)) this.error(`${id} no longer contains ${expression}: check how this tfjs version starts WASM threads.`);
      const glue = readFileSync(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js'), 'utf8');
      const head = 'var WasmBackendModuleThreadedSimd = ';
      const start = glue.indexOf(head);
      const end = glue.lastIndexOf('})();');
      if (start < 0 || end < start) this.error('tfjs-backend-wasm-threaded-simd.js is not laid out as expected: check how this tfjs version starts WASM threads.');
      // The factory expression (an IIFE returning the factory); the worker's blob assigns it to the global name.
      const factory = glue.slice(start + head.length, end + '})()'.length);
      return { code: code.replace(expression, JSON.stringify(factory)), map: null };
    },
  };
}

const JPEG_DECODER_ONLY = '\0fewshot-jpeg-js-decoder';

/**
 * src/pixels.ts only decodes JPEGs (`jpeg.decode`), but jpeg-js's index requires its encoder too (about
 * 18 KB minified, the only reference to Node's `Buffer` in the bundle). In the browser build `jpeg-js`
 * resolves to its decoder alone.
 */
function jpegDecoderOnly(): Plugin {
  return {
    name: 'fewshot-sdk-jpeg-decoder-only',
    apply: 'build',
    enforce: 'pre',
    resolveId(source) {
      return source === 'jpeg-js' ? JPEG_DECODER_ONLY : null;
    },
    load(id) {
      if (id !== JPEG_DECODER_ONLY) return null;
      return [
        "import decode from 'jpeg-js/lib/decoder.js';",
        "const encode = () => { throw new Error('fewshot-edge: the browser SDK bundles the JPEG decoder only.'); };",
        'export { decode, encode };',
        'export default { decode, encode };',
      ].join('\n');
    },
  };
}

/**
 * `tfjs-backend-webgpu` for a chunk whose entry is that package's module (rolldown would call it `dist`), and
 * `tflite` for src/tflite/ (rolldown would call it `network`, which says nothing in a network log).
 */
function chunkName(facadeModuleId: string | null): string | undefined {
  if (facadeModuleId && /[\\/]src[\\/]tflite[\\/]/.test(facadeModuleId)) return 'tflite';
  const match = facadeModuleId?.match(/.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  return match?.[1]?.replace(/^@/, '').replace('/', '-');
}

export default defineConfig({
  root: repoRoot,
  publicDir: false,
  logLevel: 'warn',
  // Library mode keeps `process.env.NODE_ENV` as it is; tfjs and friends read it for dev-only checks.
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  plugins: [noNodeCode(), jpegDecoderOnly(), threadedGlueAsText(), copyWasmBinaries(), typesEntry(), licenseNotices()],
  build: {
    outDir: join(repoRoot, 'dist', 'sdk'),
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    sourcemap: process.env.FEWSHOT_SDK_SOURCEMAP === '1',
    reportCompressedSize: false,
    // .vite/manifest.json: which chunk each dynamic import loads, for bench/sdk-size.ts.
    manifest: true,
    copyPublicDir: false,
    lib: {
      // `worker.js` is the Web Worker entry (`fewshot-edge/sdk/worker`); it shares the chunks of `index.js`.
      entry: { index: join(repoRoot, 'sdk', 'index.ts'), worker: join(repoRoot, 'sdk', 'worker.ts') },
      formats: ['es'],
      fileName: (_format, entryName) => `${entryName}.js`,
    },
    rolldownOptions: {
      // Nothing external: tfjs, idb-keyval, comlink, the image decoders are all in the bundle.
      external: [],
      output: {
        // Whitespace too: Vite's library mode keeps it (and the pure annotations) for apps that bundle the
        // library again; dist/sdk is what pages load as it is.
        minify: true,
        comments: false,
        codeSplitting: {
          groups: [
            {
              // One tfjs-core chunk (with its long / seedrandom) that the entry and every backend and model chunk
              // share; core modules only tfjs-layers uses (minShareCount) stay in the v2 chunk.
              name: 'tfjs-core',
              test: /node_modules[\\/](@tensorflow[\\/]tfjs-core|long|seedrandom)[\\/]/,
              minShareCount: 2,
              priority: 2,
            },
            {
              // tfjs-backend-cpu/dist/shared (the kernel implementations WebGPU and WASM reuse) and what it imports,
              // in a chunk of their own. Left to itself rolldown puts that module in the WebGPU chunk, and the cpu
              // backend then downloads all of WebGPU.
              name: 'tfjs-backend-cpu-shared',
              test: /node_modules[\\/]@tensorflow[\\/]tfjs-backend-cpu[\\/]dist[\\/]shared\.js$/,
              priority: 1,
            },
          ],
        },
        // Flat beside index.js, so `new URL('./', import.meta.url)` means this folder from any chunk.
        chunkFileNames: (chunk) => `${chunkName(chunk.facadeModuleId) ?? chunk.name}-[hash].js`,
        assetFileNames: '[name][extname]',
      },
    },
  },
});
