// The page the browser tests drive: the SDK as an app imports it, tfjs to check the active backend, and a
// few helpers the tests' page.evaluate calls share.
import * as tf from '@tensorflow/tfjs-core';
import * as sdk from '../../sdk/index.js';
import { cosine } from '../cosine.js';

const testing = {
  async blob(path: string): Promise<Blob> {
    const response = await fetch(path);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.blob();
  },
  async image(src: string): Promise<HTMLImageElement> {
    const img = new Image();
    img.src = src;
    await img.decode();
    return img;
  },
  cosine,
  /** The FewshotError code a call fails with, or a description of what happened instead. */
  async codeOf(run: () => Promise<unknown>): Promise<string> {
    try {
      await run();
      return 'no error';
    } catch (err) {
      return sdk.isFewshotError(err) ? err.code : `not a FewshotError: ${String(err)}`;
    }
  },
};

declare global {
  interface Window {
    sdk: typeof sdk;
    tf: typeof tf;
    testing: typeof testing;
    /** Starts the SDK's Web Worker entry as a module worker. */
    startSdkWorker: () => Worker;
    sdkReady: true;
  }
}

window.sdk = sdk;
window.tf = tf;
window.testing = testing;
window.startSdkWorker = () => new Worker(new URL('../../sdk/worker.ts', import.meta.url), { type: 'module' });
window.sdkReady = true;
