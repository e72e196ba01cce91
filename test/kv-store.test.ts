import { createHash } from 'node:crypto';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeExamples, type StoredExample } from '../src/codec.js';
import { isFewshotError } from '../src/errors.js';
import { MODELS, type ModelName } from '../src/models.js';
import { KvStore, type KvNamespaceLike } from '../workers/kv-store.js';
import { codeOfAsync } from './errors.js';

// Real Workers KV, as Miniflare runs it in workerd. Every test takes a namespace of its own, so tests
// can read the raw keys of their namespace without seeing another test's.
const NAMESPACES = 24;
let mf: Miniflare;
let nextNamespace = 0;

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response("") } }',
    kvNamespaces: Array.from({ length: NAMESPACES }, (_, i) => `KV${i}`),
    kvPersist: false,
  });
  await mf.ready;
});

afterAll(async () => {
  await mf?.dispose();
});

async function freshKv(): Promise<KvNamespaceLike> {
  if (nextNamespace >= NAMESPACES) throw new Error('Raise NAMESPACES: every test needs a namespace of its own.');
  return (await mf.getKVNamespace(`KV${nextNamespace++}`)) as unknown as KvNamespaceLike;
}

/** Collects the store's background work (`ctx.waitUntil` in the worker) so a test can wait for it. */
function backgroundWork() {
  const pending: Promise<unknown>[] = [];
  let calls = 0;
  return {
    run: (work: Promise<unknown>) => {
      calls++;
      pending.push(work);
    },
    get calls() {
      return calls;
    },
    async settle(): Promise<void> {
      while (pending.length > 0) await Promise.all(pending.splice(0));
    },
  };
}

/** KV operations seen by `counting`, by key. */
interface KvCalls {
  gets: string[];
  lists: number;
  puts: string[];
  deletes: string[];
}

/**
 * A counter, not a mock: forwards every call unchanged to the real Miniflare KV and records which
 * operation touched which key. `failPut` turns chosen puts into rejections (used only where a test says
 * what real fault it stands for).
 */
function counting(kv: KvNamespaceLike, failPut?: (key: string) => Error | undefined) {
  const calls: KvCalls = { gets: [], lists: 0, puts: [], deletes: [] };
  function get(key: string, type: 'text'): Promise<string | null>;
  function get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>;
  function get(key: string, type: 'text' | 'arrayBuffer'): Promise<string | ArrayBuffer | null> {
    calls.gets.push(key);
    return type === 'text' ? kv.get(key, 'text') : kv.get(key, 'arrayBuffer');
  }
  const wrapped: KvNamespaceLike = {
    get,
    async put(key, value, options) {
      calls.puts.push(key);
      const fault = failPut?.(key);
      if (fault) throw fault;
      return kv.put(key, value, options);
    },
    delete(key) {
      calls.deletes.push(key);
      return kv.delete(key);
    },
    list(options) {
      calls.lists++;
      return kv.list(options);
    },
  };
  return {
    kv: wrapped,
    calls,
    reset(): void {
      Object.assign(calls, { gets: [], lists: 0, puts: [], deletes: [] });
    },
  };
}

/** The key prefix the store must use: `u/<sha256(user id) in hex>/`. */
const prefixOf = (userId: string) => `u/${createHash('sha256').update(userId, 'utf8').digest('hex')}/`;

/** A made-up embedding of the model's dimension, different for every seed. */
function embedding(model: ModelName, seed: number): Float32Array {
  return Float32Array.from({ length: MODELS[model].dim }, (_, i) => Math.sin(seed * 7.31 + i * 0.17) * (1 + seed / 10));
}

function example(id: string, label: string, seed = id.length, model: ModelName = 'mobilenet_v1_025', createdAt = 1_700_000_000_000 + seed): StoredExample {
  return { id, label, model, embedding: embedding(model, seed), createdAt };
}

/** Everything but the embedding, plus the embedding's exact bits, sorted by id: equal only if identical. */
function exactly(examples: readonly StoredExample[]) {
  return [...examples]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((e) => ({
      id: e.id,
      label: e.label,
      model: e.model,
      createdAt: e.createdAt,
      isFloat32Array: e.embedding instanceof Float32Array,
      bits: Buffer.from(e.embedding.buffer, e.embedding.byteOffset, e.embedding.byteLength).toString('hex'),
    }));
}

const ids = (examples: readonly StoredExample[]) => examples.map((e) => e.id).sort();

async function rawKeys(kv: KvNamespaceLike, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv.list<unknown>({ prefix, ...(cursor ? { cursor } : {}) });
    names.push(...page.keys.map((k) => k.name));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return names.sort();
}

/** The ids in a user's snapshot key as stored, or null when there is none. */
async function snapshotIds(kv: KvNamespaceLike, userId: string): Promise<string[] | null> {
  const text = await kv.get(`${prefixOf(userId)}snapshot`, 'text');
  return text === null ? null : ids(decodeExamples(text));
}

describe('KvStore on Miniflare KV', () => {
  it('round-trips examples exactly (ids, unicode labels, model, createdAt, embedding bits), from the example keys and from the snapshot', async () => {
    const kv = await freshKv();
    const work = backgroundWork();
    const store = new KvStore(kv, work.run);
    const special = embedding('mobilenet_v1_025', 3);
    special.set([-0, 1e-45, -1.1754942e-38, 3.4028235e38, -3.4028235e38, 0.1, 1 / 3], 0); // sign of zero, subnormals, extremes
    const stored = [
      { ...example('a1', 'café'), embedding: special },
      example('a2', '猫 (ねこ)', 2),
      example('a3', '🦘 kangaroo', 5),
      example('b-1_X', 'Ωmega ∑', 9, 'mobilenet_v1_025', 0),
      example('3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'okapi', 4, 'mobilenet_v1_025', 1_234_567_890_123),
    ];
    await store.put('alice', stored);

    const first = await store.list('alice'); // read from the example keys
    expect(exactly(first)).toEqual(exactly(stored));
    await work.settle();
    expect(await snapshotIds(kv, 'alice')).toEqual(ids(stored));
    const second = await store.list('alice'); // read from the snapshot
    expect(exactly(second)).toEqual(exactly(stored));
    expect(Object.is(second.find((e) => e.id === 'a1')!.embedding[0], -0)).toBe(true);

    // The larger model round-trips too.
    const big = [example('v2', 'mug', 11, 'mobilenet_v2_100')];
    await store.put('bob', big);
    expect(exactly(await store.list('bob'))).toEqual(exactly(big));
    await work.settle();
    expect(exactly(await store.list('bob'))).toEqual(exactly(big));
  });

  it('does not keep a reference to the caller\'s embedding', async () => {
    const store = new KvStore(await freshKv(), backgroundWork().run);
    const e = example('a1', 'okapi');
    const copy = e.embedding.slice();
    await store.put('alice', [e]);
    e.embedding.fill(0);
    expect(exactly(await store.list('alice'))).toEqual(exactly([{ ...e, embedding: copy }]));
  });

  it('deletes by id ignoring unknown ids, and clear removes every key of the user', async () => {
    const kv = await freshKv();
    const work = backgroundWork();
    const store = new KvStore(kv, work.run);
    await store.put('alice', [example('a1', 'okapi'), example('a2', 'okapi', 2), example('a3', 'mug', 3)]);
    await store.list('alice');
    await work.settle();

    await store.delete('alice', ['a1', 'missing', 'also-missing']);
    expect(ids(await store.list('alice'))).toEqual(['a2', 'a3']);
    await store.delete('alice', []);
    await store.delete('alice', ['nothing-here']);
    expect(ids(await store.list('alice'))).toEqual(['a2', 'a3']);
    await work.settle();

    await store.clear('alice');
    expect(await store.list('alice')).toEqual([]);
    expect(await rawKeys(kv)).toEqual([]); // no example key and no snapshot left behind
    await store.clear('alice'); // clearing an empty user is fine
    await store.delete('nobody', ['x']);
    expect(await store.list('nobody')).toEqual([]);
    await work.settle();
    expect(await rawKeys(kv)).toEqual([]);
  });

  it('overwrites an example by id, even after the old version went into the snapshot', async () => {
    const kv = await freshKv();
    const work = backgroundWork();
    const store = new KvStore(kv, work.run);
    await store.put('alice', [example('a1', 'cat', 1), example('a2', 'dog', 2)]);
    await store.list('alice');
    await work.settle(); // the snapshot now holds a1 as "cat"

    const replaced = example('a1', 'lynx', 8, 'mobilenet_v1_025', 1_800_000_000_000);
    await store.put('alice', [replaced]);
    expect(exactly(await store.list('alice'))).toEqual(exactly([replaced, example('a2', 'dog', 2)]));
    await work.settle();
    expect(exactly(await store.list('alice'))).toEqual(exactly([replaced, example('a2', 'dog', 2)]));
    const snapshot = decodeExamples((await kv.get(`${prefixOf('alice')}snapshot`, 'text'))!);
    expect(snapshot.find((e) => e.id === 'a1')!.label).toBe('lynx');
  });

  it('returns a label given in decomposed form or with spaces canonically on every path, and keeps reads bounded', async () => {
    const real = await freshKv();
    const counter = counting(real);
    const work = backgroundWork();
    const store = new KvStore(counter.kv, work.run);
    await store.put('alice', [example('a1', ' cafe\u0301 ')]);
    const canonical = [example('a1', 'caf\u00e9')];
    expect(exactly(await store.list('alice'))).toEqual(exactly(canonical));
    await work.settle();
    counter.reset();
    expect(exactly(await store.list('alice'))).toEqual(exactly(canonical));
    expect(counter.calls).toEqual({ gets: [`${prefixOf('alice')}snapshot`], lists: 1, puts: [], deletes: [] });
  });

  it('refuses invalid user ids and example ids, storing nothing', async () => {
    const kv = await freshKv();
    const store = new KvStore(kv, backgroundWork().run);
    expect(await codeOfAsync(() => store.list(''))).toBe('INVALID_ARGUMENT');
    expect(await codeOfAsync(() => store.put('a\u0000b', [example('a1', 'x')]))).toBe('INVALID_ARGUMENT');
    expect(await codeOfAsync(() => store.put('alice', [example('ok', 'x'), example('../x', 'x')]))).toBe('INVALID_ARGUMENT');
    expect(await codeOfAsync(() => store.put('alice', [example('a/b', 'x')]))).toBe('INVALID_ARGUMENT');
    expect(await rawKeys(kv)).toEqual([]);
  });

  it('keeps users apart: same example ids, different data, and clearing one leaves the other', async () => {
    const kv = await freshKv();
    const work = backgroundWork();
    const store = new KvStore(kv, work.run);
    const alice = [example('x1', 'okapi', 1), example('x2', 'okapi', 2)];
    const bob = [example('x1', 'mug', 31), example('x2', 'kettle', 32), example('x3', 'mug', 33)];
    await Promise.all([store.put('alice', alice), store.put('bob', bob)]);
    expect(exactly(await store.list('alice'))).toEqual(exactly(alice));
    expect(exactly(await store.list('bob'))).toEqual(exactly(bob));
    await work.settle();
    expect(exactly(await store.list('alice'))).toEqual(exactly(alice));
    expect(exactly(await store.list('bob'))).toEqual(exactly(bob));

    await store.delete('alice', ['x3']); // bob's x3 is not alice's to delete
    expect(exactly(await store.list('bob'))).toEqual(exactly(bob));
    await store.clear('alice');
    expect(await store.list('alice')).toEqual([]);
    expect(exactly(await store.list('bob'))).toEqual(exactly(bob));
    await work.settle();
    expect((await rawKeys(kv)).every((k) => k.startsWith(prefixOf('bob')))).toBe(true);
  });

  it('names raw KV keys by a hash of the user id only, whatever characters the user id has', async () => {
    const kv = await freshKv();
    const work = backgroundWork();
    const store = new KvStore(kv, work.run);
    const users = ['../x/e/', 'ユーザー/名前 🦘', 'alice@example.com', 'u/'];
    for (const [i, user] of users.entries()) await store.put(user, [example(`id${i}`, `label ${i}`, i)]);
    for (const [i, user] of users.entries()) expect(ids(await store.list(user))).toEqual([`id${i}`]);
    await work.settle(); // the snapshots exist now too

    const keys = await rawKeys(kv);
    expect(keys).toEqual(users.flatMap((user, i) => [`${prefixOf(user)}e/id${i}`, `${prefixOf(user)}snapshot`]).sort());
    for (const key of keys) {
      expect(key).toMatch(/^u\/[0-9a-f]{64}\/(e\/id\d|snapshot)$/);
      for (const part of ['..', 'x/e', 'ユーザー', '名前', '🦘', 'alice', '@', 'example.com']) expect(key).not.toContain(part);
    }
  });

  it('keeps every example of 50 concurrent puts for one user', async () => {
    const work = backgroundWork();
    const store = new KvStore(await freshKv(), work.run);
    const examples = Array.from({ length: 50 }, (_, i) => example(`c${i}`, `class ${i % 5}`, i));
    await Promise.all(examples.map((e) => store.put('alice', [e])));
    expect(exactly(await store.list('alice'))).toEqual(exactly(examples));
    await work.settle();
    expect(exactly(await store.list('alice'))).toEqual(exactly(examples));
  });

  it('lists 300 examples with 1 get and 1 list once the snapshot is written, and reads only examples added since', async () => {
    const real = await freshKv();
    const counter = counting(real);
    const work = backgroundWork();
    const store = new KvStore(counter.kv, work.run);
    const prefix = prefixOf('alice');
    const examples = Array.from({ length: 300 }, (_, i) => example(`e${i}`, `class ${i % 10}`, i));
    await store.put('alice', examples);

    counter.reset();
    expect(exactly(await store.list('alice'))).toEqual(exactly(examples)); // no snapshot yet: reads every example
    expect(counter.calls.lists).toBe(1);
    expect(counter.calls.gets).toHaveLength(301);
    expect(work.calls).toBe(1);
    await work.settle();
    expect(counter.calls.puts).toEqual([`${prefix}snapshot`]);

    counter.reset();
    expect(exactly(await store.list('alice'))).toEqual(exactly(examples));
    expect(counter.calls).toEqual({ gets: [`${prefix}snapshot`], lists: 1, puts: [], deletes: [] });
    expect(work.calls).toBe(1); // a fresh snapshot is not rewritten

    const added = [example('n1', 'new', 401), example('n2', 'new', 402), example('n3', 'newer', 403)];
    await store.put('alice', added);
    counter.reset();
    expect(exactly(await store.list('alice'))).toEqual(exactly([...examples, ...added]));
    expect(counter.calls.lists).toBe(1);
    expect([...counter.calls.gets].sort()).toEqual([`${prefix}e/n1`, `${prefix}e/n2`, `${prefix}e/n3`, `${prefix}snapshot`]);
    expect(work.calls).toBe(2);
    await work.settle();
    expect(counter.calls.puts).toEqual([`${prefix}snapshot`]); // the stale snapshot was rewritten
    expect(await snapshotIds(real, 'alice')).toEqual(ids([...examples, ...added]));

    counter.reset();
    expect(await store.list('alice')).toHaveLength(303);
    expect(counter.calls).toEqual({ gets: [`${prefix}snapshot`], lists: 1, puts: [], deletes: [] });
  });

  it('decodes a snapshot once while its text stays the same (requests of one isolate), and again when it changes', async () => {
    const kv = await freshKv();
    const work = backgroundWork();
    const store = new KvStore(kv, work.run);
    const examples = Array.from({ length: 20 }, (_, i) => example(`s${i}`, `class ${i % 4}`, i, 'mobilenet_v3_small_075'));
    await store.put('carol', examples);
    await store.list('carol');
    await work.settle(); // the snapshot is written
    const first = await store.list('carol');
    // Another request (a new store on the same namespace, as the worker makes per request) reads the same text.
    const second = await new KvStore(kv, work.run).list('carol');
    expect(exactly(second)).toEqual(exactly(examples));
    const byId = new Map(first.map((e) => [e.id, e.embedding]));
    expect(second.every((e) => byId.get(e.id) === e.embedding)).toBe(true); // not decoded again
    await store.put('carol', [example('s0', 'moved', 99, 'mobilenet_v3_small_075')]);
    await store.list('carol');
    await work.settle(); // a new snapshot text
    const third = await store.list('carol');
    expect(exactly(third)).toEqual(exactly([example('s0', 'moved', 99, 'mobilenet_v3_small_075'), ...examples.slice(1)]));
    expect(third.find((e) => e.id === 's1')?.embedding).not.toBe(byId.get('s1'));
  });

  it('drops a deleted example that the stale snapshot still holds, then rewrites the snapshot without it', async () => {
    const kv = await freshKv();
    const work = backgroundWork();
    const store = new KvStore(kv, work.run);
    const examples = Array.from({ length: 5 }, (_, i) => example(`e${i}`, 'okapi', i));
    await store.put('alice', examples);
    await store.list('alice');
    await work.settle();

    await store.delete('alice', ['e2']);
    expect(await snapshotIds(kv, 'alice')).toContain('e2'); // stale
    const kept = examples.filter((e) => e.id !== 'e2');
    expect(exactly(await store.list('alice'))).toEqual(exactly(kept));
    await work.settle();
    expect(await snapshotIds(kv, 'alice')).toEqual(ids(kept));

    await store.delete('alice', kept.map((e) => e.id)); // deleting everything also drops the snapshot
    expect(await store.list('alice')).toEqual([]);
    await work.settle();
    expect(await rawKeys(kv)).toEqual([]);
  });

  it.each([
    ['garbage text', 'this is {not json'],
    ['a truncated document', '{"format":"fewshot-edge/examples","version":1,"model":"mobilenet_v1_025","dim":256,"examples":[{"id":"e0"'],
    ['a document of the wrong model', JSON.stringify({ format: 'fewshot-edge/examples', version: 1, model: 'mobilenet_v1_025', dim: 1280, examples: [] })],
  ])('ignores a corrupt snapshot (%s), lists every example from the example keys and rewrites the snapshot valid', async (_, corrupt) => {
    const kv = await freshKv();
    const work = backgroundWork();
    const store = new KvStore(kv, work.run);
    const examples = Array.from({ length: 4 }, (_, i) => example(`e${i}`, `class ${i}`, i));
    await store.put('alice', examples);
    await store.list('alice');
    await work.settle();

    await kv.put(`${prefixOf('alice')}snapshot`, corrupt);
    expect(exactly(await store.list('alice'))).toEqual(exactly(examples));
    await work.settle();
    expect(await snapshotIds(kv, 'alice')).toEqual(ids(examples));
    expect(exactly(await store.list('alice'))).toEqual(exactly(examples));
  });

  it('skips a malformed example value and returns the others, without rewriting the snapshot on every list', async () => {
    const real = await freshKv();
    const counter = counting(real);
    const work = backgroundWork();
    const store = new KvStore(counter.kv, work.run);
    const prefix = prefixOf('alice');
    const good = [example('g1', 'okapi', 1), example('g2', 'mug', 2), example('g3', 'okapi', 3)];
    await store.put('alice', good);
    // Written directly: valid metadata, but 100 bytes instead of 256 float32s (1,024 bytes).
    await real.put(`${prefix}e/bad`, new Uint8Array(100).buffer, { metadata: { label: 'okapi', model: 'mobilenet_v1_025', createdAt: 5 } });
    // And right-sized values whose metadata names no model, or a label no snapshot could hold.
    const bytes = new Float32Array(embedding('mobilenet_v1_025', 7)).buffer;
    await real.put(`${prefix}e/bad-model`, bytes, { metadata: { label: 'okapi', model: 'resnet50', createdAt: 5 } });
    await real.put(`${prefix}e/bad-label`, bytes, { metadata: { label: '  ', model: 'mobilenet_v1_025', createdAt: 5 } });
    await real.put(`${prefix}e/no-metadata`, bytes);

    expect(exactly(await store.list('alice'))).toEqual(exactly(good));
    await work.settle();
    expect(await snapshotIds(real, 'alice')).toEqual(ids(good));
    expect(exactly(await store.list('alice'))).toEqual(exactly(good));

    counter.reset();
    const callsBefore = work.calls;
    expect(exactly(await store.list('alice'))).toEqual(exactly(good));
    await work.settle();
    expect(counter.calls.puts).toEqual([]); // nothing new to cache: the snapshot is not rewritten
    expect(work.calls).toBe(callsBefore);
  });

  it('reports a KV write failure as STORE_ERROR and loses none of the examples stored before', async () => {
    const real = await freshKv();
    const work = backgroundWork();
    const store = new KvStore(real, work.run);
    const before = [example('a1', 'okapi', 1), example('a2', 'mug', 2), example('a3', 'okapi', 3)];
    await store.put('alice', before);
    await store.list('alice');
    await work.settle();

    // Simulates a KV outage (a fault Miniflare cannot produce): every put rejects, reads still work.
    const outage = counting(real, () => new Error('KV PUT failed: 503 Service Unavailable'));
    const failing = new KvStore(outage.kv, work.run);
    const error = await failing.put('alice', [example('a4', 'kettle', 4)]).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isFewshotError(error) && error.code).toBe('STORE_ERROR');
    expect(outage.calls.puts).toEqual([`${prefixOf('alice')}e/a4`]);

    expect(exactly(await failing.list('alice'))).toEqual(exactly(before));
    expect(exactly(await store.list('alice'))).toEqual(exactly(before));
    await work.settle();
    expect(await snapshotIds(real, 'alice')).toEqual(ids(before));
  });

  it('keeps list working and loses nothing when the background snapshot write fails', async () => {
    const real = await freshKv();
    const work = backgroundWork();
    // Simulates KV refusing the snapshot write (its one-write-per-second-per-key limit, 429): puts to
    // keys ending in /snapshot reject; example writes go through to real KV.
    const limited = counting(real, (key) => (key.endsWith('/snapshot') ? new Error('KV PUT failed: 429 Too Many Requests') : undefined));
    const store = new KvStore(limited.kv, work.run);
    const examples = Array.from({ length: 6 }, (_, i) => example(`e${i}`, `class ${i % 2}`, i));
    await store.put('alice', examples);

    expect(exactly(await store.list('alice'))).toEqual(exactly(examples));
    expect(work.calls).toBe(1);
    await expect(work.settle()).resolves.toBeUndefined(); // the failed rewrite does not reject the background work
    expect(limited.calls.puts.filter((k) => k.endsWith('/snapshot'))).toHaveLength(1);
    expect(await snapshotIds(real, 'alice')).toBeNull();

    expect(exactly(await store.list('alice'))).toEqual(exactly(examples)); // still complete, from the example keys
    await work.settle();
    const healthy = new KvStore(real, work.run); // once KV accepts writes again, the snapshot is written
    expect(exactly(await healthy.list('alice'))).toEqual(exactly(examples));
    await work.settle();
    expect(await snapshotIds(real, 'alice')).toEqual(ids(examples));
  });
});
