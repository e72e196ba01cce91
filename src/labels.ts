import { FewshotError } from './errors.js';

/** Longest label accepted, in Unicode code points. Long enough for any name, short enough to show. */
export const MAX_LABEL_LENGTH = 100;

// Control and format characters (C0/C1, bidi overrides, zero-width joiners...) make labels that look
// alike but differ, or that corrupt terminals and logs.
const FORBIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/**
 * Checks a class label and returns its canonical form (Unicode NFC, surrounding white space removed).
 * Labels are `Map` keys here, so names like `constructor` are plain text; `__proto__` alone is refused,
 * because clients that turn `scores` into a plain object would pollute its prototype.
 * @throws FewshotError `INVALID_LABEL` for non-strings, empty or over-long labels, control characters and `__proto__`.
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
  if (canonical === '__proto__') {
    throw new FewshotError('INVALID_LABEL', 'The label "__proto__" is reserved: it breaks clients that index objects by label.');
  }
  if (FORBIDDEN.test(canonical)) {
    throw new FewshotError('INVALID_LABEL', 'A label must not contain control or invisible formatting characters.');
  }
  return canonical;
}
