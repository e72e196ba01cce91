// The demo page of the browser SDK: `npm start` serves it on http://127.0.0.1:5173 (with the edge worker),
// or on its own: `npx vite --config demo/vite.config.ts`. The model weights come from models/
// (`npm run fetch-model`, or FEWSHOT_MODEL_DIR), served raw at /models; the SDK is compiled from sdk/.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { serveFolder } from '../scripts/serve-folder.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Its own pre-bundle cache, so it never fights the browser tests' dev server over node_modules/.vite.
  cacheDir: resolve(repo, 'node_modules/.vite-demo'),
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
  plugins: [serveFolder('/models', process.env.FEWSHOT_MODEL_DIR || resolve(repo, 'models'))],
  // The backends are imported lazily by the SDK: pre-bundle them up front so the page never reloads mid-start.
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-layers',
      '@tensorflow/tfjs-converter',
      '@tensorflow-models/mobilenet',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-backend-cpu',
      'idb-keyval',
      'jpeg-js',
      'fast-png',
      'image-size',
    ],
  },
  build: { outDir: resolve(repo, 'dist/demo'), emptyOutDir: true, target: 'es2022' },
});
