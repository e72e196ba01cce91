import type { Context } from 'hono';
import { FewshotError } from '../src/errors.js';
import { HttpError } from './http-errors.js';

/** What `POST /v1/examples` and `POST /v1/classify` carry: an image, or an embedding made on the device. */
export type RequestInput =
  | { kind: 'image'; image: Uint8Array; label: string | undefined }
  | { kind: 'embedding'; embedding: number[]; model: string; label: string | undefined };

const RAW_IMAGE_TYPES = new Set(['image/jpeg', 'image/jpg', 'image/png', 'application/octet-stream']);

/**
 * Reads the request body by its content type:
 * - `multipart/form-data` with a file field `image` (and `label`);
 * - a raw JPEG/PNG body (`image/jpeg`, `image/png`, `application/octet-stream`, or no type) with `?label=`;
 * - `application/json` `{ "embedding": [...], "model": "...", "label"?: "..." }` (hybrid mode).
 * The body size is already capped by the body-limit middleware; the image's own header is checked by
 * the core before any pixel is decoded.
 */
export async function readInput(c: Context): Promise<RequestInput> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const queryLabel = c.req.query('label');
  if (type === 'multipart/form-data') return readMultipart(c, queryLabel);
  if (type === 'application/json') return readEmbedding(c, queryLabel);
  if (type === '' || RAW_IMAGE_TYPES.has(type)) {
    return { kind: 'image', image: new Uint8Array(await c.req.arrayBuffer()), label: queryLabel };
  }
  throw new HttpError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    `Content type ${JSON.stringify(type)} is not accepted: send multipart/form-data (image, label), a JPEG or PNG body ` +
      `(image/jpeg, image/png), or application/json with an embedding.`,
  );
}

async function readMultipart(c: Context, queryLabel: string | undefined): Promise<RequestInput> {
  let form: FormData;
  try {
    form = await c.req.formData();
  } catch (cause) {
    throw new HttpError(400, 'INVALID_ARGUMENT', `The multipart body could not be parsed: ${String(cause)}`);
  }
  const image: unknown = form.get('image');
  if (!(image instanceof Blob)) {
    throw new FewshotError('INVALID_IMAGE', 'The multipart body needs a file field "image" (curl: -F image=@photo.jpg).');
  }
  const label = form.get('label');
  if (label !== null && typeof label !== 'string') throw new FewshotError('INVALID_LABEL', 'The multipart field "label" must be text, not a file.');
  return { kind: 'image', image: new Uint8Array(await image.arrayBuffer()), label: label ?? queryLabel };
}

async function readEmbedding(c: Context, queryLabel: string | undefined): Promise<RequestInput> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'The JSON body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'The JSON body must be an object: { "embedding": [...], "model": "..." }.');
  }
  const { embedding, model, label } = body as Record<string, unknown>;
  if (!Array.isArray(embedding) || !embedding.every((v) => typeof v === 'number')) {
    throw new FewshotError('INVALID_EMBEDDING', '"embedding" must be an array of numbers.');
  }
  if (typeof model !== 'string') throw new HttpError(400, 'INVALID_ARGUMENT', '"model" must name the model that made the embedding, e.g. "mobilenet_v2_100".');
  if (label !== undefined && typeof label !== 'string') throw new FewshotError('INVALID_LABEL', '"label" must be a string.');
  return { kind: 'embedding', embedding, model, label: label ?? queryLabel };
}
