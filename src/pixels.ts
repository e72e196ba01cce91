import { imageSize } from 'image-size';
import jpeg from 'jpeg-js';
import { convertIndexedToRgb, decode as decodePng, type DecodedPng } from 'fast-png';
import { FewshotError } from './errors.js';

/** An RGB image, 3 bytes per pixel, rows top to bottom. What every input is turned into before embedding. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Raw pixels: gray (1), RGB (3) or RGBA (4) bytes per pixel, rows top to bottom. The channel count is
 * inferred from `data.length / (width * height)` when not given. `ImageData` from a canvas fits this shape.
 */
export interface RawPixels {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels?: 1 | 3 | 4;
}

/** Encoded JPEG or PNG bytes (a Node `Buffer` is a `Uint8Array`). */
export type EncodedImage = Uint8Array | ArrayBuffer;

/** Limits checked before any pixel is decoded, so a hostile header cannot make us allocate gigabytes. */
export interface ImageLimits {
  /** Largest encoded file accepted, in bytes. Default 20 MiB. */
  readonly maxBytes: number;
  /** Largest image accepted, in pixels (width x height). Default 50 megapixels. */
  readonly maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxBytes: 20 * 1024 * 1024, maxPixels: 50_000_000 };

type ImageKind = 'png' | 'jpeg';

/** Identifies JPEG and PNG by their signatures; names other known formats so the error can say what was sent. */
function sniff(bytes: Uint8Array): ImageKind {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  let other: string | undefined;
  try {
    other = imageSize(bytes).type;
  } catch {
    other = undefined;
  }
  if (other) {
    throw new FewshotError('UNSUPPORTED_IMAGE', `${other.toUpperCase()} images are not supported: send a JPEG or PNG.`);
  }
  throw new FewshotError('INVALID_IMAGE', 'The bytes are not a JPEG or PNG image (unknown signature).');
}

/**
 * Refuses a JPEG or PNG that stops before its end marker (a cut-off upload or download). Some decoders (jpeg-js
 * here; Firefox's and WebKit's `createImageBitmap` in the browser SDK) would return a half-grey picture that
 * gets learnt as an example. A JPEG's end-of-image marker must follow its last start-of-scan (scan data cannot
 * contain either marker: a 0xFF there is always stuffed); a PNG needs its whole IEND chunk after its last IDAT.
 * Other formats pass unchecked.
 * @throws FewshotError `INVALID_IMAGE`.
 */
export function checkComplete(bytes: Uint8Array): void {
  let complete = true;
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    // Searched from the ends, so a large file costs a few bytes of scanning, not a pass over its scan data.
    const end = lastIndexOf(bytes, JPEG_EOI);
    complete = end > 0 && indexOf(bytes, JPEG_SOS) < end && lastIndexOf(bytes, JPEG_SOS, end) < 0;
  } else if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    const end = lastIndexOf(bytes, PNG_IEND);
    complete = end > lastIndexOf(bytes, PNG_IDAT) && end + 8 <= bytes.length; // the IEND type and its CRC
  }
  if (!complete) throw new FewshotError('INVALID_IMAGE', 'The image is truncated: it stops before its end marker.');
}

const JPEG_SOS = [0xff, 0xda];
const JPEG_EOI = [0xff, 0xd9];
const PNG_IDAT = [0x49, 0x44, 0x41, 0x54];
const PNG_IEND = [0x49, 0x45, 0x4e, 0x44];

/** Where `sequence` last starts in `bytes` after index `after`, or -1. */
function lastIndexOf(bytes: Uint8Array, sequence: readonly number[], after = -1): number {
  for (let i = bytes.length - sequence.length; i > after; i--) if (startsAt(bytes, sequence, i)) return i;
  return -1;
}

/** Where `sequence` first starts in `bytes`, or `bytes.length` when it does not. */
function indexOf(bytes: Uint8Array, sequence: readonly number[]): number {
  for (let i = 0; i + sequence.length <= bytes.length; i++) if (startsAt(bytes, sequence, i)) return i;
  return bytes.length;
}

function startsAt(bytes: Uint8Array, sequence: readonly number[], at: number): boolean {
  for (let j = 0; j < sequence.length; j++) if (bytes[at + j] !== sequence[j]) return false;
  return true;
}

/** Reads width and height from the header alone and refuses empty or absurd sizes. */
function checkHeader(bytes: Uint8Array, limits: ImageLimits): void {
  let size: { width?: number; height?: number };
  try {
    size = imageSize(bytes);
  } catch (cause) {
    throw new FewshotError('INVALID_IMAGE', 'The image header is corrupt or truncated.', { cause });
  }
  checkDimensions(size.width ?? 0, size.height ?? 0, limits);
}

/**
 * Refuses an empty or over-size encoded file before anything reads it.
 * @throws FewshotError `INVALID_IMAGE` (0 bytes) or `IMAGE_TOO_LARGE`.
 */
export function checkByteSize(bytes: number, limits: ImageLimits): void {
  if (bytes === 0) throw new FewshotError('INVALID_IMAGE', 'The image is empty (0 bytes).');
  if (bytes > limits.maxBytes) {
    throw new FewshotError('IMAGE_TOO_LARGE', `The image file is ${bytes} bytes; at most ${limits.maxBytes} are accepted.`);
  }
}

/**
 * Refuses an image with no pixels or more than `limits.maxPixels`, from its size alone.
 * @throws FewshotError `INVALID_IMAGE` or `IMAGE_TOO_LARGE`.
 */
export function checkDimensions(width: number, height: number, limits: ImageLimits): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new FewshotError('INVALID_IMAGE', `The image has no pixels (${width}x${height}).`);
  }
  if (width * height > limits.maxPixels) {
    throw new FewshotError(
      'IMAGE_TOO_LARGE',
      `The image is ${width}x${height} (${((width * height) / 1e6).toFixed(1)} MP); at most ` +
        `${(limits.maxPixels / 1e6).toFixed(0)} MP are accepted: resize it first.`,
    );
  }
}

function asBytes(input: EncodedImage): Uint8Array {
  return input instanceof Uint8Array ? input : new Uint8Array(input);
}

/**
 * Decodes JPEG or PNG bytes to RGB after checking the size of the file and of the header.
 * @throws FewshotError `INVALID_IMAGE`, `UNSUPPORTED_IMAGE` or `IMAGE_TOO_LARGE`.
 */
export function decodeImage(input: EncodedImage, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): RgbImage {
  const bytes = asBytes(input);
  checkByteSize(bytes.length, limits);
  const kind = sniff(bytes);
  checkHeader(bytes, limits);
  checkComplete(bytes);
  try {
    return kind === 'jpeg' ? decodeJpeg(bytes, limits) : pngToRgb(decodePng(bytes, { checkCrc: true }));
  } catch (cause) {
    if (cause instanceof FewshotError) throw cause;
    throw new FewshotError('INVALID_IMAGE', `The ${kind.toUpperCase()} data is corrupt or truncated.`, { cause });
  }
}

function decodeJpeg(bytes: Uint8Array, limits: ImageLimits): RgbImage {
  // tolerantDecoding=false: a truncated file is an error, not a half-grey picture learnt as an example.
  const { data, width, height } = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    tolerantDecoding: false,
    maxResolutionInMP: limits.maxPixels / 1e6,
    maxMemoryUsageInMB: Math.ceil((limits.maxPixels * 4 * 3) / 2 ** 20),
  });
  return { data, width, height };
}

/** Expands every PNG colour type (1/2/4/8/16-bit, gray, palette, alpha) to 8-bit RGB, alpha over white. */
function pngToRgb(png: DecodedPng): RgbImage {
  const { width, height } = png;
  const count = width * height;
  let channels = png.channels;
  let samples: ArrayLike<number>;
  let max = 255;
  if (png.palette) {
    samples = convertIndexedToRgb(png);
    channels = png.palette[0]?.length ?? 3;
  } else if (png.depth < 8) {
    samples = unpackBits(png.data as Uint8Array, width, height, png.depth, channels);
    max = 2 ** png.depth - 1;
  } else {
    samples = png.data;
    max = png.depth === 16 ? 65535 : 255;
  }
  const rgb = new Uint8Array(count * 3);
  const hasAlpha = channels === 2 || channels === 4;
  const colour = channels >= 3;
  for (let i = 0; i < count; i++) {
    const base = i * channels;
    const alpha = hasAlpha ? (samples[base + channels - 1] as number) / max : 1;
    for (let c = 0; c < 3; c++) {
      const value = ((samples[base + (colour ? c : 0)] as number) / max) * 255;
      rgb[i * 3 + c] = Math.round(value * alpha + 255 * (1 - alpha));
    }
  }
  return { data: rgb, width, height };
}

/** PNG packs sub-byte samples MSB first, each row padded to a whole byte. */
function unpackBits(packed: Uint8Array, width: number, height: number, depth: number, channels: number): Uint8Array {
  const perRow = width * channels;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const out = new Uint8Array(perRow * height);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < perRow; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)] as number;
      out[y * perRow + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/**
 * Turns raw gray/RGB/RGBA pixels into RGB, validating the geometry.
 * @throws FewshotError `INVALID_IMAGE` when the buffer does not match width x height, `IMAGE_TOO_LARGE` over the limit.
 */
export function rawToRgb(raw: RawPixels, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): RgbImage {
  const { data, width, height } = raw;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new FewshotError('INVALID_IMAGE', 'Raw pixels must be a Uint8Array or Uint8ClampedArray.');
  }
  checkDimensions(width, height, limits);
  const channels = raw.channels ?? data.length / (width * height);
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new FewshotError(
      'INVALID_IMAGE',
      `Raw pixels of ${width}x${height} need ${width * height} (gray), ${width * height * 3} (RGB) or ` +
        `${width * height * 4} (RGBA) bytes; got ${data.length}.`,
    );
  }
  if (data.length !== width * height * channels) {
    throw new FewshotError('INVALID_IMAGE', `Expected ${width * height * channels} bytes of pixels, got ${data.length}.`);
  }
  if (channels === 3) return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += channels) {
    rgb[i] = data[j] as number;
    rgb[i + 1] = data[channels === 1 ? j : j + 1] as number;
    rgb[i + 2] = data[channels === 1 ? j : j + 2] as number;
  }
  return { data: rgb, width, height };
}

/** The image mirrored left to right (for flip averaging; resizing commutes with it). */
export function mirrorImage(image: RgbImage): RgbImage {
  const { width, height } = image;
  const data = new Uint8Array(image.data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * 3;
      const to = (y * width + (width - 1 - x)) * 3;
      data[to] = image.data[from] as number;
      data[to + 1] = image.data[from + 1] as number;
      data[to + 2] = image.data[from + 2] as number;
    }
  }
  return { data, width, height };
}
