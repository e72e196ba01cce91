import { isFewshotError } from '../src/errors.js';

/** The FewshotError code a call throws, or a string that makes the assertion fail with a reason. */
export function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    return isFewshotError(err) ? err.code : `not a FewshotError: ${String(err)}`;
  }
  return 'no error';
}

export async function codeOfAsync(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    return isFewshotError(err) ? err.code : `not a FewshotError: ${String(err)}`;
  }
  return 'no error';
}
