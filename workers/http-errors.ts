import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { FewshotError, type FewshotErrorCode } from '../src/errors.js';

/** Codes only the HTTP API has, beside the core's. Like the core's, they are only ever added. */
export type HttpOnlyCode =
  | 'UNAUTHENTICATED'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'ROUTE_NOT_FOUND'
  | 'INTERNAL';

export type ApiErrorCode = FewshotErrorCode | HttpOnlyCode;

/** The body of every error response. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string };
}

/** An error raised by the HTTP layer itself (auth, body, content type). */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const STATUS: Record<FewshotErrorCode, ContentfulStatusCode> = {
  INVALID_IMAGE: 400,
  UNSUPPORTED_IMAGE: 415,
  IMAGE_TOO_LARGE: 413,
  INVALID_LABEL: 400,
  MODEL_MISMATCH: 409,
  NO_CLASSES: 409,
  INVALID_EMBEDDING: 400,
  NOT_FOUND: 404,
  INVALID_ARGUMENT: 400,
  INVALID_FORMAT: 400,
  MODEL_NOT_FOUND: 503,
  BACKEND_UNAVAILABLE: 503,
  STORE_ERROR: 503,
  QUOTA_EXCEEDED: 409,
};

/** Any thrown value to a JSON error response; unexpected ones are logged and answered 500 without details. */
export function errorResponse(c: Context, err: unknown): Response {
  const [status, code, message] = describe(err);
  if (status >= 500) console.error(err);
  const body: ApiErrorBody = { error: { code, message } };
  return c.json(body, status);
}

function describe(err: unknown): [ContentfulStatusCode, ApiErrorCode, string] {
  if (err instanceof FewshotError) return [STATUS[err.code], err.code, err.message];
  if (err instanceof HttpError) return [err.status, err.code, err.message];
  if (err instanceof HTTPException && err.status === 401) {
    // Hono's JWT middleware: no token, a bad signature, an expired or not-yet-valid token.
    return [401, 'UNAUTHENTICATED', `${err.message}: send "Authorization: Bearer <token>" with a valid, unexpired token.`];
  }
  if (err instanceof HTTPException) return [err.status as ContentfulStatusCode, err.status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT', err.message];
  return [500, 'INTERNAL', 'Internal error; it has been logged.'];
}
