import { FewshotError } from './errors.js';

/** Longest label accepted, in Unicode code points. Long enough for any name, short enough to show. */
export const MAX_LABEL_LENGTH = 100;

// Control and format characters (C0/C1, bidi overrides, zero-width joiners...) make labels that look
// alike but differ, or that corrupt terminals and logs.
const FORBIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/**
 * Checks a class label and returns its canonical form (Unicode NFC, surrounding white space removed).
 * Labels are stored as `Map` keys, never object keys, so names like `__proto__` are harmless and allowed.
 * @throws FewshotError `INVALID_LABEL` for non-strings, empty or over-long labels and control characters.
 */
export function normalizeLabel(label: unknown): string {
  if (typeof label !== 'string') {
    throw new FewshotError('INVALID_LABEL', `A label must be a string, got ${label === null ? 'null' : typeof label}.`);
  }
  const canonical = label.normalize('NFC').trim();
  if (canonical.length === 0) {
    throw new FewshotError('INVALID_LABEL', 'A label must not be empty or only white space.');
  }
  const length = [...canonical].length;
  if (length > MAX_LABEL_LENGTH) {
    throw new FewshotError(
      'INVALID_LABEL',
      `A label may have at most ${MAX_LABEL_LENGTH} characters, this one has ${length}: shorten it.`,
    );
  }
  if (FORBIDDEN.test(canonical)) {
    throw new FewshotError('INVALID_LABEL', 'A label must not contain control or invisible formatting characters.');
  }
  return canonical;
}
