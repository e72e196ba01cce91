/** One bounded HTTP GET whose failures say why in words a user can act on. */

/** Per-file limit: the largest official shard is about 4 MB, so this allows links down to about 35 KB/s. */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 120_000;

/**
 * The messages of an error and its causes, e.g. `getaddrinfo ENOTFOUND storage.googleapis.com`. undici's
 * generic "fetch failed" is dropped: the useful part is always in `cause`.
 */
export function describeCause(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof AggregateError && e.errors.length > 0) {
      // Happy-eyeballs connects fail once per address (::1 and 127.0.0.1): list each once.
      parts.push([...new Set(e.errors.map((inner) => describeCause(inner)))].join('; '));
      break;
    }
    const message = e instanceof Error ? e.message : String(e);
    if (message && message !== 'fetch failed' && !parts.includes(message)) parts.push(message);
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}

/** Thrown by {@link download}: `message` is the reason alone (the caller names the URL), `cause` the original. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
}

/**
 * GETs `url` (following redirects) and returns the whole body.
 * @param timeoutMs limit for the request and the body together, so a stalled server cannot hang the caller.
 * @throws DownloadError on a network failure, a non-2xx answer, a body cut short, or the timeout.
 */
export async function download(url: string, timeoutMs = DEFAULT_DOWNLOAD_TIMEOUT_MS): Promise<Buffer> {
  const signal = AbortSignal.timeout(timeoutMs);
  const reason = (err: unknown) =>
    signal.aborted || (err as Error)?.name === 'TimeoutError'
      ? `no complete answer within ${timeoutMs / 1000} s (a larger --timeout allows slower links)`
      : describeCause(err);
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (err) {
    throw new DownloadError(reason(err), { cause: err });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadError(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  }
  try {
    return Buffer.from(await response.arrayBuffer());
  } catch (err) {
    throw new DownloadError(`the body broke off (${reason(err)})`, { cause: err });
  }
}
