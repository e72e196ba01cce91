import * as tf from '@tensorflow/tfjs-core';
import { FewshotError } from '../src/errors.js';
import type { ImageInput } from '../src/embedder.js';
import { checkByteSize, checkComplete, checkDimensions, DEFAULT_IMAGE_LIMITS, type ImageLimits, type RawPixels } from '../src/pixels.js';

/**
 * What the browser SDK embeds: everything the core takes (JPEG/PNG bytes, raw pixels, tensors) plus the
 * page's own images: `<img>`, `<canvas>`, `OffscreenCanvas`, `<video>` (its current frame, e.g. a webcam),
 * `ImageBitmap`, `ImageData` and `Blob`/`File` (decoded by the browser). In a Web Worker, where there is no
 * DOM, use bitmaps, blobs, `ImageData`, `OffscreenCanvas` or bytes.
 */
export type BrowserImageInput =
  | ImageInput
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLVideoElement
  | ImageBitmap
  | ImageData
  | Blob;

type Drawable = HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | HTMLVideoElement | ImageBitmap;

/** Longest side kept when drawing a page image: 4x the network's 224, so its own resize has detail to work with. */
const MAX_SIDE = 896;

/** Turns a browser input into one the core embeds; core inputs pass through unchanged. */
export async function toCoreInput(input: BrowserImageInput, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<ImageInput> {
  if (input instanceof Uint8Array || input instanceof ArrayBuffer || input instanceof tf.Tensor) return input;
  if (typeof Blob !== 'undefined' && input instanceof Blob) return drawPixels(await decodeBlob(input, limits), limits, true);
  if (isDrawable(input)) return drawPixels(input, limits, false);
  if (input && typeof input === 'object' && 'data' in input && 'width' in input && 'height' in input) return input as RawPixels;
  throw new FewshotError('INVALID_IMAGE', 'Unsupported image input: pass an <img>, <canvas>, <video>, ImageBitmap, ImageData, Blob, JPEG/PNG bytes or raw pixels.');
}

function isDrawable(input: unknown): input is Drawable {
  const kinds = ['HTMLImageElement', 'HTMLCanvasElement', 'OffscreenCanvas', 'HTMLVideoElement', 'ImageBitmap'] as const;
  return kinds.some((name) => {
    const type = (globalThis as Record<string, unknown>)[name];
    return typeof type === 'function' && input instanceof type;
  });
}

async function decodeBlob(blob: Blob, limits: ImageLimits): Promise<ImageBitmap> {
  checkByteSize(blob.size, limits);
  // Firefox and WebKit decode a cut-off JPEG into a half-grey picture; Chromium refuses it. Refuse it everywhere.
  checkComplete(new Uint8Array(await blob.arrayBuffer()));
  try {
    return await createImageBitmap(blob);
  } catch (cause) {
    throw new FewshotError('INVALID_IMAGE', `The browser could not decode this ${blob.type || 'file'} as an image: it is corrupt, truncated or not an image.`, { cause });
  }
}

function sizeOf(source: Drawable): { width: number; height: number } {
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    if (!source.complete) throw new FewshotError('INVALID_IMAGE', 'The <img> has not finished loading: await img.decode() first.');
    return { width: source.naturalWidth, height: source.naturalHeight };
  }
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) {
    if (source.readyState < 2) throw new FewshotError('INVALID_IMAGE', 'The <video> has no frame yet: wait for its "loadeddata" event.');
    return { width: source.videoWidth, height: source.videoHeight };
  }
  return { width: source.width, height: source.height };
}

/** Draws the source onto an OffscreenCanvas (shrunk to MAX_SIDE) and reads its RGBA pixels. */
function drawPixels(source: Drawable, limits: ImageLimits, ownBitmap: boolean): RawPixels {
  try {
    const { width, height } = sizeOf(source);
    checkDimensions(width, height, limits);
    const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    const context = new OffscreenCanvas(w, h).getContext('2d', { willReadFrequently: true });
    if (!context) throw new FewshotError('INVALID_IMAGE', 'This browser cannot draw images on an OffscreenCanvas.');
    context.drawImage(source, 0, 0, w, h);
    let pixels: ImageData;
    try {
      pixels = context.getImageData(0, 0, w, h);
    } catch (cause) {
      throw new FewshotError(
        'INVALID_IMAGE',
        'The image is from another origin without CORS, so its pixels cannot be read: serve it with ' +
          'Access-Control-Allow-Origin and set crossOrigin="anonymous" on the <img>.',
        { cause },
      );
    }
    return { data: pixels.data, width: w, height: h, channels: 4 };
  } finally {
    if (ownBitmap) (source as ImageBitmap).close();
  }
}
