import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from 'hono/jwt';
import { unstable_startWorker } from 'wrangler';
import { repoRoot } from './paths.js';

/** The secret test workers verify tokens with (never the one in .dev.vars). */
export const TEST_SECRET = 'test-secret-for-real-workerd-0f9e8d7c';

/** The real worker (wrangler.toml, workers/) in real workerd, with fresh local KV on a free port. */
export interface TestWorker {
  readonly url: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A valid token for `user` (HS256, sub, exp in an hour), or one shaped by `claims`. */
  token(user: string, claims?: Record<string, unknown>, secret?: string): Promise<string>;
  dispose(): Promise<void>;
}

/** Starts the worker with wrangler's dev server, offline; `vars` override wrangler.toml's. */
export async function startTestWorker(vars: Record<string, string> = {}): Promise<TestWorker> {
  process.env.WRANGLER_SEND_METRICS = 'false';
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
  const persist = mkdtempSync(join(tmpdir(), 'fewshot-kv-'));
  const bindings = Object.fromEntries(
    Object.entries({ JWT_SECRET: TEST_SECRET, ...vars }).map(([name, value]) => [name, { type: 'plain_text' as const, value }]),
  );
  const worker = await unstable_startWorker({
    config: join(repoRoot, 'wrangler.toml'),
    bindings,
    envFiles: [],
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, persist, logLevel: 'warn', watch: false },
  });
  await worker.ready;
  const url = (await worker.url).toString().replace(/\/$/, '');
  return {
    url,
    fetch: (path, init) => fetch(`${url}${path}`, init),
    token: (user, claims = {}, secret = TEST_SECRET) => {
      const now = Math.floor(Date.now() / 1000);
      return sign({ sub: user, iat: now, exp: now + 3600, ...claims }, secret, 'HS256');
    },
    dispose: async () => {
      await worker.dispose();
      rmSync(persist, { recursive: true, force: true });
    },
  };
}
