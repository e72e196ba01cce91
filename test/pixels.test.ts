import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { checkComplete, decodeImage, rawToRgb } from '../src/pixels.js';
import { codeOf } from './errors.js';
import { caltechDir, omniglotDir } from './paths.js';

const firstFile = (dir: string) => join(dir, readdirSync(dir).sort()[0] as string);
const jpegBytes = readFileSync(firstFile(join(caltechDir, 'okapi')));
const omniglotBytes = readFileSync(firstFile(join(omniglotDir, readdirSync(omniglotDir).sort()[0] as string)));

/** A PNG signature and IHDR chunk only: enough for a header reader, nothing to decode. */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(8 + 25);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13);
  bytes.set([0x49, 0x48, 0x44, 0x52], 12); // IHDR
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 2, 0, 0, 0], 24);
  return bytes;
}

describe('decodeImage', () => {
  it('decodes a real Caltech-101 JPEG to RGB at its header size', () => {
    const image = decodeImage(jpegBytes);
    expect(image.width).toBeGreaterThan(100);
    expect(image.data.length).toBe(image.width * image.height * 3);
    const mean = image.data.reduce((a, b) => a + b, 0) / image.data.length;
    expect(mean).toBeGreaterThan(20);
    expect(mean).toBeLessThan(235);
  });

  it('decodes a real 1-bit Omniglot PNG to black strokes on white', () => {
    const image = decodeImage(omniglotBytes);
    expect([image.width, image.height]).toEqual([105, 105]);
    const values = new Set(image.data);
    expect([...values].sort((a, b) => a - b)).toEqual([0, 255]);
    const white = image.data.filter((v) => v === 255).length / image.data.length;
    expect(white).toBeGreaterThan(0.8); // mostly paper
    expect(white).toBeLessThan(1);
  });

  it('expands gray, gray+alpha, 16-bit and palette PNGs to the same RGB', () => {
    const width = 2;
    const height = 1;
    // Pixel 0: mid grey (opaque); pixel 1: black but fully transparent, which reads as white paper.
    const variants = [
      encodePng({ width, height, channels: 2, depth: 8, data: new Uint8Array([128, 255, 0, 0]) }),
      encodePng({ width, height, channels: 4, depth: 8, data: new Uint8Array([128, 128, 128, 255, 0, 0, 0, 0]) }),
      encodePng({ width, height, channels: 4, depth: 16, data: new Uint16Array([32896, 32896, 32896, 65535, 0, 0, 0, 0]) }),
      // Transparent entry first: fast-png's encoder writes tRNS for non-opaque entries only, in order.
      encodePng({ width, height, channels: 1, depth: 8, palette: [[0, 0, 0, 0], [128, 128, 128, 255]], data: new Uint8Array([1, 0]) }),
    ];
    for (const png of variants) expect(Array.from(decodeImage(png).data)).toEqual([128, 128, 128, 255, 255, 255]);
    const gray = encodePng({ width, height, channels: 1, depth: 8, data: new Uint8Array([10, 200]) });
    expect(Array.from(decodeImage(gray.slice().buffer as ArrayBuffer).data)).toEqual([10, 10, 10, 200, 200, 200]);
  });

  it('gives each kind of bad input its code', () => {
    const gif = new TextEncoder().encode('GIF89a\u0001\u0000\u0001\u0000\u0000\u0000\u0000;');
    const corrupt = Uint8Array.from(encodePng({ width: 8, height: 8, channels: 3, depth: 8, data: new Uint8Array(192).fill(7) }));
    corrupt[corrupt.length - 20]! ^= 0xff; // inside IDAT: CRC no longer matches
    const random = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
    const cases: [string, Uint8Array | ArrayBuffer, string][] = [
      ['empty', new Uint8Array(0), 'INVALID_IMAGE'],
      ['random bytes', random, 'INVALID_IMAGE'],
      ['truncated JPEG', jpegBytes.subarray(0, Math.floor(jpegBytes.length / 2)), 'INVALID_IMAGE'],
      ['JPEG header only', jpegBytes.subarray(0, 600), 'INVALID_IMAGE'],
      ['corrupt PNG data', corrupt, 'INVALID_IMAGE'],
      ['PNG claiming 100000x100000', pngHeader(100_000, 100_000), 'IMAGE_TOO_LARGE'],
      ['PNG of 0x10 pixels', pngHeader(0, 10), 'INVALID_IMAGE'],
      ['GIF', gif, 'UNSUPPORTED_IMAGE'],
    ];
    for (const [name, bytes, code] of cases) expect(codeOf(() => decodeImage(bytes)), name).toBe(code);
    expect(codeOf(() => decodeImage(jpegBytes, { maxBytes: 1000, maxPixels: 1e8 }))).toBe('IMAGE_TOO_LARGE');
    expect(codeOf(() => decodeImage(jpegBytes, { maxBytes: 1e8, maxPixels: 1000 }))).toBe('IMAGE_TOO_LARGE');
  });
});

describe('rawToRgb', () => {
  it('accepts gray, RGB and RGBA pixels and checks the geometry', () => {
    expect(Array.from(rawToRgb({ data: new Uint8Array([1, 2]), width: 2, height: 1 }).data)).toEqual([1, 1, 1, 2, 2, 2]);
    expect(Array.from(rawToRgb({ data: new Uint8ClampedArray([1, 2, 3, 9, 4, 5, 6, 9]), width: 2, height: 1 }).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rawToRgb({ data: new Uint8Array(12), width: 2, height: 2 }).data).toHaveLength(12);
    expect(codeOf(() => rawToRgb({ data: new Uint8Array(5), width: 2, height: 1 }))).toBe('INVALID_IMAGE');
    expect(codeOf(() => rawToRgb({ data: new Uint8Array(0), width: 0, height: 0 }))).toBe('INVALID_IMAGE');
    expect(codeOf(() => rawToRgb({ data: new Uint8Array(6), width: 2, height: 1, channels: 4 }))).toBe('INVALID_IMAGE');
    expect(codeOf(() => rawToRgb({ data: [1, 2, 3] as unknown as Uint8Array, width: 1, height: 1 }))).toBe('INVALID_IMAGE');
  });
});

describe('checkComplete', () => {
  const domains = readdirSync(join(caltechDir, '..', '..'), { withFileTypes: true }).filter((d) => d.isDirectory());
  // The first two files of the first class of every dataset: JPEGs and PNGs as cameras and scanners write them.
  const samples = domains.flatMap((d) => {
    const images = join(caltechDir, '..', '..', d.name, 'images');
    const firstClass = join(images, readdirSync(images).sort()[0]!);
    return readdirSync(firstClass).sort().slice(0, 2).map((f) => join(firstClass, f));
  });

  it('accepts whole real files of every dataset, and a JPEG with bytes after its end marker', () => {
    expect(samples.length).toBeGreaterThanOrEqual(2 * 7);
    for (const file of samples) expect(() => checkComplete(readFileSync(file)), file).not.toThrow();
    expect(() => checkComplete(Buffer.concat([jpegBytes, Buffer.alloc(64)]))).not.toThrow();
  });

  it('refuses each of them cut anywhere inside the image data, as INVALID_IMAGE', () => {
    for (const file of samples) {
      const bytes = readFileSync(file);
      for (const keep of [0.5, 0.9, 0.999]) {
        const cut = bytes.subarray(0, Math.floor(bytes.length * keep));
        expect(codeOf(() => checkComplete(cut)), `${file} cut at ${keep}`).toBe('INVALID_IMAGE');
        expect(codeOf(() => decodeImage(cut)), `${file} cut at ${keep}`).toBe('INVALID_IMAGE');
      }
    }
  });
});
