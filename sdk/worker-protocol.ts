import { transferHandlers } from 'comlink';
import { FewshotError, type FewshotErrorCode } from '../src/errors.js';

// Comlink marks thrown values with this symbol-keyed wrapper: { [throwMarker]: 0, value }.
type Thrown = { value: unknown };
type SerializedThrow = { fewshot: boolean; code?: FewshotErrorCode; name?: string; message?: string; value?: unknown };

/**
 * Errors cross the worker boundary as `FewshotError`s with their `code` (Comlink alone keeps only the
 * message), so `err.code` works the same on the main thread as in the worker. Both sides import this.
 */
export function keepErrorCodes(): void {
  const original = transferHandlers.get('throw')!;
  transferHandlers.set('throw', {
    canHandle: original.canHandle,
    serialize: (thrown: unknown) => {
      const { value } = thrown as Thrown;
      const out: SerializedThrow =
        value instanceof FewshotError
          ? { fewshot: true, code: value.code, message: value.message }
          : value instanceof Error
            ? { fewshot: false, name: value.name, message: value.message }
            : { fewshot: false, value };
      return [out, []];
    },
    deserialize: (serialized: unknown) => {
      const s = serialized as SerializedThrow;
      if (s.fewshot) throw new FewshotError(s.code as FewshotErrorCode, s.message ?? '');
      if (s.message !== undefined) throw Object.assign(new Error(s.message), { name: s.name });
      throw s.value;
    },
  });
}
