/**
 * Stable error codes. Clients switch on `code`, never on the message, so codes are
 * only ever added, never renamed.
 */
export type FewshotErrorCode =
  /** The bytes are not a decodable JPEG or PNG, or the pixels/tensor are malformed. */
  | 'INVALID_IMAGE'
  /** The image format is recognised but not supported (GIF, WebP, ...). */
  | 'UNSUPPORTED_IMAGE'
  /** The image (encoded bytes or declared dimensions) exceeds the configured limits. */
  | 'IMAGE_TOO_LARGE'
  /** A label is not a string, is empty, too long or contains control characters. */
  | 'INVALID_LABEL'
  /** Embeddings of different models (or dimensions) would be mixed. */
  | 'MODEL_MISMATCH'
  /** `classify` was called before any example was added. */
  | 'NO_CLASSES'
  /** An embedding contains NaN/Infinity or is all zeros. */
  | 'INVALID_EMBEDDING'
  /** The requested class or example does not exist. */
  | 'NOT_FOUND'
  /** An option or argument has the wrong type or value. */
  | 'INVALID_ARGUMENT'
  /** Serialised examples are not in a format or version this library reads. */
  | 'INVALID_FORMAT'
  /** Model weights could not be found or loaded. */
  | 'MODEL_NOT_FOUND'
  /** The requested TensorFlow.js backend is not available here. */
  | 'BACKEND_UNAVAILABLE'
  /** The example store failed to read or write. */
  | 'STORE_ERROR'
  /** A limit on stored data (examples per user, storage quota) would be exceeded; nothing was stored. */
  | 'QUOTA_EXCEEDED';

/** The one error type thrown by fewshot-edge. `code` is stable; `message` says what to do. */
export class FewshotError extends Error {
  override readonly name = 'FewshotError';
  constructor(
    readonly code: FewshotErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a {@link FewshotError}, optionally with the given code. */
export function isFewshotError(err: unknown, code?: FewshotErrorCode): err is FewshotError {
  return err instanceof FewshotError && (code === undefined || err.code === code);
}
