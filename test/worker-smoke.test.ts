import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caltechDir, repoRoot } from './paths.js';

const BASE = 'http://127.0.0.1:8787';
const imageOf = (label: string, index: number) => {
  const dir = join(caltechDir, label);
  return readFileSync(join(dir, readdirSync(dir).sort()[index] as string));
};

async function waitForHealth(server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`npm start exited with ${server.exitCode}:\n${log()}`);
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`npm start did not answer /healthz within 120 s:\n${log()}`);
}

/** The README's commands as a user runs them: `npm start`, `npm run token -- <user>`, then HTTP. */
describe('npm start (wrangler dev on 127.0.0.1:8787, local KV, offline)', () => {
  let server: ChildProcess;
  let output = '';

  beforeAll(async () => {
    server = spawn('npm', ['start'], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitForHealth(server, () => output);
  });

  afterAll(async () => {
    if (server?.exitCode === null && server.pid) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      process.kill(-server.pid, 'SIGTERM'); // npm, the start script, wrangler and workerd
      await exited;
    }
  });

  it('adds examples and classifies over real HTTP with a token from `npm run token`', async () => {
    const user = `smoke-${Date.now()}`;
    const token = execFileSync('npm', ['run', '-s', 'token', '--', user], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const headers = { authorization: `Bearer ${token}` };
    for (const label of ['accordion', 'brontosaurus']) {
      const form = new FormData();
      form.set('label', label);
      form.set('image', new Blob([new Uint8Array(imageOf(label, 0))], { type: 'image/jpeg' }), `${label}.jpg`);
      const added = await fetch(`${BASE}/v1/examples`, { method: 'POST', body: form, headers });
      expect(added.status).toBe(201);
    }
    // A raw JPEG body, as `curl --data-binary @x.jpg -H 'content-type: image/jpeg'` sends it.
    const classified = await fetch(`${BASE}/v1/classify`, {
      method: 'POST',
      body: new Uint8Array(imageOf('brontosaurus', 5)),
      headers: { ...headers, 'content-type': 'image/jpeg' },
    });
    expect(classified.status).toBe(200);
    expect(await classified.json()).toMatchObject({ label: 'brontosaurus', unknown: false });
    // Offline: no request went out for telemetry or request.cf data.
    expect(output).not.toMatch(/ENOTFOUND|EAI_AGAIN|cf\.json/);
  });
});
