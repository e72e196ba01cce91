import { clear, createStore, delMany, promisifyRequest, values, type UseStore } from 'idb-keyval';
import type { StoredExample } from '../src/codec.js';
import { FewshotError } from '../src/errors.js';
import { checkUserId, type ExampleStore } from '../src/store.js';

/**
 * Examples in IndexedDB through idb-keyval: one database per user (`fewshot-edge/users/<user>`), one record
 * per example, keyed by id, in the core's example shape (the embedding stays a Float32Array). A `put` is one
 * IndexedDB transaction, so a batch is stored whole or not at all; a full disk (`QuotaExceededError`) fails
 * the transaction with `QUOTA_EXCEEDED` and leaves what was stored before untouched.
 *
 * Every change is announced on a BroadcastChannel of the same name, so other tabs of the same user can
 * `reload()` (see `subscribe`).
 */
export class IndexedDbStore implements ExampleStore {
  private readonly stores = new Map<string, UseStore>();

  constructor(private readonly prefix = 'fewshot-edge') {}

  async list(userId: string): Promise<StoredExample[]> {
    return guard('read', () => values<StoredExample>(this.storeOf(userId)));
  }

  async put(userId: string, examples: readonly StoredExample[]): Promise<void> {
    await guard('write', () =>
      this.storeOf(userId)('readwrite', (store) => {
        try {
          for (const e of examples) store.put({ ...e, embedding: Float32Array.from(e.embedding) }, e.id);
        } catch (err) {
          // A put that throws (a value that cannot be stored, a full disk) must not let the earlier puts of
          // this batch commit: abort, so the batch is stored whole or not at all.
          store.transaction.abort();
          throw err;
        }
        return promisifyRequest(store.transaction);
      }),
    );
    this.announce(userId);
  }

  async delete(userId: string, ids: readonly string[]): Promise<void> {
    await guard('delete', () => delMany([...ids], this.storeOf(userId)));
    this.announce(userId);
  }

  async clear(userId: string): Promise<void> {
    await guard('clear', () => clear(this.storeOf(userId)));
    this.announce(userId);
  }

  /** Calls `onChange` when another tab or worker changes this user's examples; returns the unsubscribe. */
  subscribe(userId: string, onChange: () => void): () => void {
    if (typeof BroadcastChannel === 'undefined') return () => undefined;
    const channel = new BroadcastChannel(this.channelName(userId));
    channel.onmessage = () => onChange();
    return () => channel.close();
  }

  private storeOf(userId: string): UseStore {
    const name = this.databaseName(checkUserId(userId));
    let store = this.stores.get(name);
    if (!store) {
      store = createStore(name, 'examples');
      this.stores.set(name, store);
    }
    return store;
  }

  private announce(userId: string): void {
    if (typeof BroadcastChannel === 'undefined') return;
    const channel = new BroadcastChannel(this.channelName(userId));
    channel.postMessage('changed');
    channel.close();
  }

  private databaseName(userId: string): string {
    return `${this.prefix}/users/${encodeURIComponent(userId)}`;
  }

  private channelName(userId: string): string {
    return this.databaseName(checkUserId(userId));
  }
}

async function guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    const name = (cause as { name?: string } | null)?.name;
    if (name === 'QuotaExceededError') {
      throw new FewshotError('QUOTA_EXCEEDED', 'The browser storage quota is full: nothing of this change was stored. Delete classes or free space.', { cause });
    }
    throw new FewshotError('STORE_ERROR', `IndexedDB ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
