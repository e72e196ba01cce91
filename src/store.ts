import { FewshotError } from './errors.js';
import type { StoredExample } from './codec.js';

/**
 * Where a user's examples live. Every method is scoped by `userId`, so one store serves many users and
 * no call can reach another user's examples. Implementations: `MemoryStore` (here), the Node file store,
 * IndexedDB in the browser, Workers KV at the edge.
 *
 * Contract: `put` is atomic per example (a crash leaves each example either fully stored or absent) and
 * never touches examples it was not given; `delete` ignores unknown ids.
 */
export interface ExampleStore {
  /** All of a user's examples, in no particular order. */
  list(userId: string): Promise<StoredExample[]>;
  /** Stores (or overwrites by id) examples. */
  put(userId: string, examples: readonly StoredExample[]): Promise<void>;
  /** Removes examples by id. */
  delete(userId: string, ids: readonly string[]): Promise<void>;
  /** Removes every example of the user. */
  clear(userId: string): Promise<void>;
}

const MAX_USER_ID_LENGTH = 256;

/**
 * Checks a user id: a non-empty string of at most 256 characters without control characters. Stores
 * hash or encode it before using it in a key or path, so its characters never reach a file system.
 */
export function checkUserId(userId: unknown): string {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH || /\p{Cc}/u.test(userId)) {
    throw new FewshotError('INVALID_ARGUMENT', `userId must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters without control characters.`);
  }
  return userId;
}

/** Keeps examples in memory: tests, short-lived processes and a reference for other stores. */
export class MemoryStore implements ExampleStore {
  private readonly users = new Map<string, Map<string, StoredExample>>();

  async list(userId: string): Promise<StoredExample[]> {
    return [...(this.users.get(checkUserId(userId))?.values() ?? [])].map(copy);
  }

  async put(userId: string, examples: readonly StoredExample[]): Promise<void> {
    const user = this.users.get(checkUserId(userId)) ?? new Map<string, StoredExample>();
    this.users.set(userId, user);
    for (const example of examples) user.set(example.id, copy(example));
  }

  async delete(userId: string, ids: readonly string[]): Promise<void> {
    const user = this.users.get(checkUserId(userId));
    for (const id of ids) user?.delete(id);
  }

  async clear(userId: string): Promise<void> {
    this.users.delete(checkUserId(userId));
  }
}

// Copies keep callers from mutating stored embeddings through a shared Float32Array.
function copy(example: StoredExample): StoredExample {
  return { ...example, embedding: example.embedding.slice() };
}
