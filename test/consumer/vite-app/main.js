// A Vite app using the installed package as documented: the SDK on the page, or (?worker) in the app's
// own module worker through connectWorker.
import { connectWorker, createClassifier, isFewshotError } from 'fewshot-edge/sdk';
import { exposeFixture } from './flow.js';

function openInWorker(options) {
  const worker = new Worker(new URL('./classifier.worker.js', import.meta.url), { type: 'module' });
  // A worker that fails to load says so only here; connectWorker would just wait.
  worker.addEventListener('error', (event) => console.error(`worker error: ${event.message ?? 'failed to load'}`));
  return connectWorker(worker, options);
}

const inWorker = new URLSearchParams(location.search).has('worker');
exposeFixture({ isFewshotError, open: inWorker ? openInWorker : createClassifier });
