import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StoredExample } from '../src/codec.js';
import { FileStore } from '../node/file-store.js';
import { codeOfAsync } from './errors.js';
import { repoRoot } from './paths.js';

const tempStore = () => mkdtempSync(join(tmpdir(), 'fewshot-store-'));

function example(id: string, label: string): StoredExample {
  return { id, label, model: 'mobilenet_v2_100', embedding: Float32Array.from({ length: 1280 }, (_, i) => Math.cos(i + id.length)), createdAt: 1 };
}

/** Every file below `dir`, as paths relative to it. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

describe('FileStore', () => {
  it('stores, lists, deletes and clears per user, exactly', async () => {
    const store = new FileStore(tempStore());
    await store.put('alice', [example('a1', 'okapi'), example('a2', 'okapi')]);
    await store.put('bob', [example('b1', 'mug')]);
    const alice = await store.list('alice');
    expect(alice.map((e) => e.id).sort()).toEqual(['a1', 'a2']);
    expect(Array.from(alice.find((e) => e.id === 'a1')!.embedding)).toEqual(Array.from(example('a1', 'okapi').embedding));
    await store.delete('alice', ['a1', 'missing']);
    expect((await store.list('alice')).map((e) => e.id)).toEqual(['a2']);
    await store.clear('alice');
    expect(await store.list('alice')).toEqual([]);
    expect((await store.list('bob')).map((e) => e.id)).toEqual(['b1']);
  });

  it('never lets a user id or example id reach a path outside the store', async () => {
    const root = tempStore();
    const store = new FileStore(root);
    await store.put('../../../tmp/evil', [example('e1', 'x')]);
    await store.put('/etc/passwd', [example('e2', 'x')]);
    const files = walk(root);
    expect(files).toHaveLength(2);
    for (const f of files) expect(f).toMatch(/^users\/[0-9a-f]{64}\/e[12]\.json$/);
    expect(await codeOfAsync(() => store.put('alice', [example('../x', 'x')]))).toBe('INVALID_ARGUMENT');
    expect(await codeOfAsync(() => store.list(''))).toBe('INVALID_ARGUMENT');
  });

  it('stays readable and keeps every example when a writer is killed mid-write', async () => {
    const root = tempStore();
    const store = new FileStore(root);
    const seeded = [example('keep1', 'okapi'), example('keep2', 'mug')];
    await store.put('alice', seeded);
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/fixtures/store-writer.ts'), root, 'alice'], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
      });
      // Kill at an arbitrary point of its write loop: SIGKILL gives it no chance to clean up.
      await new Promise((r) => setTimeout(r, 37 * (round + 1)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const listed = await store.list('alice'); // throws STORE_ERROR if any file were torn
      const ids = new Set(listed.map((e) => e.id));
      for (const s of seeded) expect(ids.has(s.id)).toBe(true);
      expect(listed.length).toBeGreaterThan(40);
      for (const e of listed) expect(e.embedding).toHaveLength(1280);
    }
  });

  it('ignores temporary files left by a crash and cleans them once stale', async () => {
    const root = tempStore();
    const store = new FileStore(root);
    await store.put('alice', [example('a1', 'okapi')]);
    const userDir = join(root, 'users', readdirSync(join(root, 'users'))[0] as string);
    const fresh = join(userDir, 'a2.json.tmp-1-abcd');
    const stale = join(userDir, 'a3.json.tmp-1-ef01');
    writeFileSync(fresh, '{"format":"fewshot-edge/exam'); // torn write of another, live process
    writeFileSync(stale, 'garbage');
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(stale, old, old);
    expect((await store.list('alice')).map((e) => e.id)).toEqual(['a1']);
    expect(readdirSync(userDir).sort()).toEqual(['a1.json', 'a2.json.tmp-1-abcd']);
  });

  it('reports a hand-damaged example file as STORE_ERROR instead of dropping it silently', async () => {
    const root = tempStore();
    const store = new FileStore(root);
    await store.put('alice', [example('a1', 'okapi')]);
    const userDir = join(root, 'users', readdirSync(join(root, 'users'))[0] as string);
    writeFileSync(join(userDir, 'a1.json'), '{ damaged');
    expect(await codeOfAsync(() => store.list('alice'))).toBe('STORE_ERROR');
  });
});
