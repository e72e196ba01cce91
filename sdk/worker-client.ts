import { proxy, transfer, wrap, type Remote } from 'comlink';
import type { AddedExample, ClassifierInfo } from '../src/classifier.js';
import type { ExamplesDocument } from '../src/codec.js';
import { FewshotError } from '../src/errors.js';
import type { ClassSummary, Prediction } from '../src/head.js';
import type { BrowserClassifierOptions, BrowserClassifier } from './index.js';
import type { BrowserImageInput } from './inputs.js';
import type { WorkerApi } from './worker.js';
import { withTimeout } from './timeout.js';
import { keepErrorCodes } from './worker-protocol.js';

/** The classifier running in a Web Worker: the same verbs, every one asynchronous. */
export interface WorkerClassifier {
  addExample(label: string, image: BrowserImageInput): Promise<AddedExample>;
  classify(image: BrowserImageInput): Promise<Prediction>;
  listClasses(): Promise<ClassSummary[]>;
  removeClass(label: string): Promise<number>;
  removeExample(id: string): Promise<boolean>;
  export(): Promise<ExamplesDocument>;
  import(document: ExamplesDocument | string): Promise<number>;
  info(): Promise<ClassifierInfo>;
}

/**
 * Opens a user's classifier inside `worker` (started from `sdk/worker.ts`). Page-only images (`<img>`,
 * `<canvas>`, `<video>`) are turned into ImageBitmaps here and transferred, so nothing is copied twice.
 */
export async function connectWorker(worker: Worker, options: BrowserClassifierOptions): Promise<WorkerClassifier> {
  keepErrorCodes();
  const { onChange, ...rest } = options;
  const api = wrap<WorkerApi>(worker);
  await started(worker, api);
  const remote = (await api.open({ ...rest, ...(onChange ? { onChange: proxy(onChange) } : {}) })) as unknown as Remote<BrowserClassifier>;
  return {
    addExample: async (label, image) => remote.addExample(label, await sendable(image)),
    classify: async (image) => remote.classify(await sendable(image)),
    listClasses: () => remote.listClasses(),
    removeClass: (label) => remote.removeClass(label),
    removeExample: (id) => remote.removeExample(id),
    export: () => remote.export(),
    import: (document) => remote.import(document),
    info: () => remote.info(),
  };
}

/** How long a worker's script may take to load and run before {@link connectWorker} gives up on it. */
export const WORKER_START_TIMEOUT_MS = 60_000;

/**
 * Resolves once the worker answers; a script that fails to load or throws, or a worker that is not ours and
 * never answers, rejects instead of leaving the app waiting forever.
 */
async function started(worker: Worker, api: Remote<WorkerApi>): Promise<void> {
  let onError: (event: ErrorEvent | Event) => void = () => undefined;
  const scriptFailed = new Promise<never>((_, reject) => {
    onError = (event) => reject(new Error('message' in event && event.message ? event.message : 'its script failed to load or threw'));
    worker.addEventListener('error', onError);
  });
  try {
    await withTimeout(Promise.race([api.ping(), scriptFailed]), WORKER_START_TIMEOUT_MS, `no answer within ${WORKER_START_TIMEOUT_MS / 1000} s`);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new FewshotError('INVALID_ARGUMENT', `The classifier worker did not start: ${why}. Its script must be a module worker that imports 'fewshot-edge/sdk/worker'.`, { cause });
  } finally {
    worker.removeEventListener('error', onError);
  }
}

/** DOM images cannot be posted to a worker: an ImageBitmap of the current picture can, without a copy. */
async function sendable(image: BrowserImageInput): Promise<BrowserImageInput> {
  const domOnly = [globalThis.HTMLImageElement, globalThis.HTMLCanvasElement, globalThis.HTMLVideoElement].some(
    (type) => typeof type === 'function' && image instanceof type,
  );
  if (!domOnly) return image;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(image as ImageBitmapSource);
  } catch (cause) {
    throw new FewshotError('INVALID_IMAGE', `This image cannot be read (not loaded, no pixels, or broken): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  return transfer(bitmap, [bitmap]);
}
