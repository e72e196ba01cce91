import { checkExampleId, decodeExamples, encodeExamples, type StoredExample } from '../src/codec.js';
import { FewshotError } from '../src/errors.js';
import { normalizeLabel } from '../src/labels.js';
import { isModelName, MODELS, type ModelName } from '../src/models.js';
import { checkUserId, type ExampleStore } from '../src/store.js';
import { IsolateCache } from './isolate-cache.js';

/**
 * Snapshots this isolate has decoded, by user prefix, with the text they came from: a request whose snapshot
 * reads the same skips the JSON and base64 decoding (about 5 ms of CPU per 100 examples of 1024-d). Bounded
 * by text size (the decoded floats take about as much again). The examples are shared, never mutated.
 */
const decodedSnapshots = new IsolateCache<{ text: string; examples: ReadonlyMap<string, StoredExample> }>(16 * 2 ** 20, (s) => s.text.length);

/** What each example key carries as KV metadata, so one `list` names every example without reading it. */
interface ExampleMetadata {
  label: string;
  model: ModelName;
  createdAt: number;
}

/** One key of a `list` page. */
export interface KvListedKey<Metadata> {
  name: string;
  metadata?: Metadata;
}

/**
 * The part of Workers KV the store uses. A `KVNamespace` binding satisfies it, and so does Miniflare's
 * `getKVNamespace()` in Node, which is how the store is tested against real KV outside a worker.
 */
export interface KvNamespaceLike {
  get(key: string, type: 'text'): Promise<string | null>;
  get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>;
  put(key: string, value: string | ArrayBuffer, options?: { metadata?: unknown }): Promise<void>;
  delete(key: string): Promise<void>;
  list<Metadata>(options: { prefix: string; cursor?: string }): Promise<
    { keys: KvListedKey<Metadata>[]; list_complete: false; cursor: string } | { keys: KvListedKey<Metadata>[]; list_complete: true }
  >;
}

/**
 * Examples in Workers KV, laid out for KV's limits (eventually consistent reads, about one write per
 * second per key, 1,000 operations per invocation):
 *
 * - `u/<sha256(user)>/e/<id>`: one key per example, written once. Value: the raw float32 embedding;
 *   metadata: label, model, time. Concurrent adds write different keys, so none can overwrite another.
 * - `u/<sha256(user)>/snapshot`: every example of the user in the core's portable format. A cache
 *   derived from the example keys, never the only copy of anything.
 *
 * `list` reads the snapshot and lists the example keys (one operation per 1,000 examples): examples in
 * both come from the snapshot, new ones are read one by one, deleted ones are dropped, and a stale
 * snapshot is rewritten in the background. With at most `maxExamples` per user that is 2 reads in the
 * steady state and never more than `maxExamples + 3` operations.
 */
export class KvStore implements ExampleStore {
  constructor(
    private readonly kv: KvNamespaceLike,
    /** Runs the snapshot rewrite after the response (`ctx.waitUntil`). */
    private readonly background: (work: Promise<unknown>) => void,
  ) {}

  async list(userId: string): Promise<StoredExample[]> {
    const prefix = await userPrefix(userId);
    const [snapshot, keys] = await Promise.all([this.readSnapshot(prefix), this.listKeys(prefix)]);
    const examples: StoredExample[] = [];
    const missing: KvListedKey<ExampleMetadata>[] = [];
    for (const key of keys) {
      const cached = snapshot.get(key.name.slice(prefix.length + 2));
      // An example overwritten by id since the snapshot was written has other metadata: read it again.
      if (cached && sameMetadata(cached, key.metadata)) examples.push(cached);
      else missing.push(key);
    }
    const fromSnapshot = examples.length;
    for (const example of await Promise.all(missing.map((key) => this.readExample(prefix, key)))) {
      if (example) examples.push(example);
    }
    // Rewrite only when the snapshot would change: a malformed key that is skipped on every list must
    // not cost a write on every list too.
    if (examples.length !== fromSnapshot || snapshot.size !== fromSnapshot) {
      this.background(this.writeSnapshot(prefix, examples));
    }
    return examples;
  }

  async put(userId: string, examples: readonly StoredExample[]): Promise<void> {
    const prefix = await userPrefix(userId);
    // Ids become key names and must decode from the snapshot again: all are checked before any is written.
    for (const e of examples) checkExampleId(e.id);
    await this.guard('write', () =>
      Promise.all(
        examples.map((e) => {
          const metadata: ExampleMetadata = { label: e.label, model: e.model, createdAt: e.createdAt };
          const bytes = new Float32Array(e.embedding); // a copy that owns its whole buffer, little-endian on every Workers host
          return this.kv.put(`${prefix}e/${e.id}`, bytes.buffer, { metadata });
        }),
      ),
    );
  }

  async delete(userId: string, ids: readonly string[]): Promise<void> {
    const prefix = await userPrefix(userId);
    await this.guard('delete', () => Promise.all(ids.map((id) => this.kv.delete(`${prefix}e/${id}`))));
  }

  async clear(userId: string): Promise<void> {
    const prefix = await userPrefix(userId);
    const keys = await this.listKeys(prefix);
    await this.guard('delete', () => Promise.all([...keys.map((k) => this.kv.delete(k.name)), this.kv.delete(`${prefix}snapshot`)]));
  }

  private async listKeys(prefix: string): Promise<KvListedKey<ExampleMetadata>[]> {
    const keys: KvListedKey<ExampleMetadata>[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.guard('list', () => this.kv.list<ExampleMetadata>({ prefix: `${prefix}e/`, ...(cursor ? { cursor } : {}) }));
      keys.push(...page.keys);
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    return keys;
  }

  /**
   * The snapshot by id, read-only (shared between requests); an absent or unreadable one is empty (the
   * example keys are the truth).
   */
  private async readSnapshot(prefix: string): Promise<ReadonlyMap<string, StoredExample>> {
    const text = await this.guard('read', () => this.kv.get(`${prefix}snapshot`, 'text'));
    if (text === null) return new Map();
    // The same text as an earlier request's: its examples, without decoding them again.
    const decoded = decodedSnapshots.get(prefix);
    if (decoded?.text === text) return decoded.examples;
    try {
      const examples = new Map(decodeExamples(text).map((e) => [e.id, e]));
      decodedSnapshots.set(prefix, { text, examples });
      return examples;
    } catch (err) {
      console.warn(`Ignoring an unreadable snapshot at ${prefix}snapshot: ${String(err)}`);
      return new Map();
    }
  }

  private async readExample(prefix: string, key: KvListedKey<ExampleMetadata>): Promise<StoredExample | undefined> {
    const bytes = await this.guard('read', () => this.kv.get(key.name, 'arrayBuffer'));
    const meta = key.metadata;
    if (bytes === null) return undefined; // deleted since the list
    const label = meta && canonicalLabel(meta.label);
    if (!meta || label === undefined || !isModelName(meta.model) || bytes.byteLength !== MODELS[meta.model].dim * 4) {
      console.warn(`Skipping the malformed example at ${key.name}.`);
      return undefined;
    }
    const id = key.name.slice(prefix.length + 2);
    // The label in the form the snapshot gives back, so both paths return the same example.
    return { id, label, model: meta.model, createdAt: meta.createdAt, embedding: new Float32Array(bytes) };
  }

  private async writeSnapshot(prefix: string, examples: readonly StoredExample[]): Promise<void> {
    const model = examples[0]?.model;
    try {
      if (!model) await this.kv.delete(`${prefix}snapshot`);
      else await this.kv.put(`${prefix}snapshot`, JSON.stringify(encodeExamples(model, examples)));
    } catch (err) {
      // A cache write: losing it (mixed models, KV's one-write-per-second limit) only costs reads later.
      console.warn(`Snapshot not written for ${prefix}: ${String(err)}`);
    }
  }

  private async guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (cause) {
      throw new FewshotError('STORE_ERROR', `Workers KV ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  }
}

function sameMetadata(example: StoredExample, meta: ExampleMetadata | undefined): boolean {
  return meta !== undefined && example.label === canonicalLabel(meta.label) && example.model === meta.model && example.createdAt === meta.createdAt;
}

/** A label as `decodeExamples` returns it (NFC, trimmed), or undefined for one it would refuse. */
function canonicalLabel(label: unknown): string | undefined {
  try {
    return normalizeLabel(label);
  } catch {
    return undefined;
  }
}

/** Keys use a hash of the user id: fixed length, and no character of it can shape a key. */
async function userPrefix(userId: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(checkUserId(userId)));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `u/${hex}/`;
}
