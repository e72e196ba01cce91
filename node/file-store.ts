import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkExampleId, decodeExamples, encodeExamples, type StoredExample } from '../src/codec.js';
import { FewshotError } from '../src/errors.js';
import { checkUserId, type ExampleStore } from '../src/store.js';

const EXAMPLE_SUFFIX = '.json';
const TEMP_MARK = '.tmp-';

/** `FEWSHOT_STORE` when set, else `~/.fewshot`. */
export function defaultStoreDir(): string {
  return resolve(process.env.FEWSHOT_STORE || join(homedir(), '.fewshot'));
}

/**
 * Stores examples as files: `<root>/users/<sha256(userId)>/<exampleId>.json`, one example per file in
 * the portable examples format.
 *
 * One file per example means adding never rewrites (or risks) other examples, and concurrent writers
 * never lose each other's examples. Each file is written to a temporary name, flushed to disk, then
 * renamed into place (atomic on POSIX), so a crash mid-write leaves either the whole example or
 * nothing; stray temporary files are ignored and cleaned on the next listing. User ids are hashed, so
 * their characters never reach the file system.
 */
export class FileStore implements ExampleStore {
  readonly root: string;

  constructor(root: string = defaultStoreDir()) {
    this.root = resolve(root);
  }

  private userDir(userId: string): string {
    const hash = createHash('sha256').update(checkUserId(userId)).digest('hex');
    return join(this.root, 'users', hash);
  }

  async list(userId: string): Promise<StoredExample[]> {
    const dir = this.userDir(userId);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw storeError(`Cannot read ${dir}`, cause);
    }
    const examples: StoredExample[] = [];
    for (const name of names) {
      const path = join(dir, name);
      if (name.includes(TEMP_MARK)) {
        await removeIfStale(path);
        continue;
      }
      if (!name.endsWith(EXAMPLE_SUFFIX)) continue;
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (cause) {
        throw storeError(`Cannot read ${path}`, cause);
      }
      try {
        examples.push(...decodeExamples(text));
      } catch (cause) {
        throw storeError(`${path} is not a valid example file (edited by hand?); move it away to continue`, cause);
      }
    }
    return examples;
  }

  async put(userId: string, examples: readonly StoredExample[]): Promise<void> {
    const dir = this.userDir(userId);
    try {
      await mkdir(dir, { recursive: true });
      for (const example of examples) {
        const body = JSON.stringify(encodeExamples(example.model, [example]));
        await writeAtomically(join(dir, checkExampleId(example.id) + EXAMPLE_SUFFIX), body);
      }
      await syncDirectory(dir);
    } catch (cause) {
      if (cause instanceof FewshotError) throw cause;
      throw storeError(`Cannot write examples under ${dir}`, cause);
    }
  }

  async delete(userId: string, ids: readonly string[]): Promise<void> {
    const dir = this.userDir(userId);
    for (const id of ids) {
      try {
        await unlink(join(dir, checkExampleId(id) + EXAMPLE_SUFFIX));
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw storeError(`Cannot delete example ${id}`, cause);
      }
    }
  }

  async clear(userId: string): Promise<void> {
    await rm(this.userDir(userId), { recursive: true, force: true });
  }
}

/**
 * A temporary file is never valid (it was not renamed into place). An old one was left by a crash; a
 * young one may belong to a writer in another process that is about to rename it, so it is left alone.
 */
async function removeIfStale(path: string): Promise<void> {
  const STALE_MS = 60 * 60 * 1000;
  const info = await stat(path).catch(() => undefined);
  if (info && Date.now() - info.mtimeMs > STALE_MS) await unlink(path).catch(() => undefined);
}

async function writeAtomically(path: string, body: string): Promise<void> {
  const temp = `${path}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

/** Makes the renames durable: without it a power cut can forget a rename that already "happened". */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function storeError(what: string, cause: unknown): FewshotError {
  return new FewshotError('STORE_ERROR', `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}
