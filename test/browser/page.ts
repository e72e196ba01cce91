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
  /**
   * A playing <video> of a canvas's captureStream() showing `img`, as a webcam <video> shows the camera, or
   * why the engine could not give one within `timeoutMs`. The canvas is repainted until the video has a
   * frame, as a camera keeps sending them: WebKitGTK's stream only carries frames painted after capture began.
   */
  async videoOf(img: HTMLImageElement, timeoutMs: number): Promise<HTMLVideoElement | string> {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const paint = () => canvas.getContext('2d')!.drawImage(img, 0, 0);
    paint();
    if (typeof canvas.captureStream !== 'function') return 'no HTMLCanvasElement.captureStream';
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = canvas.captureStream();
    const painter = setInterval(paint, 50);
    try {
      const deadline = performance.now() + timeoutMs;
      const timedOut = new Promise<string>((done) => setTimeout(() => done(`no frame after ${timeoutMs} ms`), timeoutMs));
      const played = await Promise.race([video.play().then(() => '', (err: unknown) => `play() failed: ${String(err)}`), timedOut]);
      if (played) return played;
      while (video.readyState < 2 || video.videoWidth === 0) {
        if (performance.now() > deadline) return `no frame after ${timeoutMs} ms (readyState ${video.readyState})`;
        await new Promise((r) => setTimeout(r, 20));
      }
      return video;
    } finally {
      clearInterval(painter);
    }
  },
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
