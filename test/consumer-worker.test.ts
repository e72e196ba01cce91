/**
 * The edge worker as a dependency: a team's own wrangler project (docs/WORKER.md) built from the packed,
 * installed package, run by `wrangler dev` in real workerd with local KV, offline. Over real HTTP: as the
 * whole worker (src/index.ts is one line), then mounted under the team's Hono app at /fewshot.
 */
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEdgeProject, INDEX_TS, MOUNTED_TS, typeCheck, WRANGLER_TOML, type EdgeProject } from './consumer/edge-project.js';
import { installedPackage } from './consumer/install.js';
import { wrangler, wranglerDev, type WranglerDev } from './consumer/wrangler-dev.js';
import { caltechDir, repoRoot } from './paths.js';
import { Timings } from './consumer/timings.js';

/** As test/worker.test.ts: image 0 of each class is the one example, the other 29 are held out. */
const CLASSES = ['accordion', 'anchor', 'bass', 'binocular', 'brontosaurus'];
const filesOf = (label: string) => readdirSync(join(caltechDir, label)).sort().map((f) => join(caltechDir, label, f));
const imageOf = (label: string, index = 0) => new Uint8Array(readFileSync(filesOf(label)[index] as string));

type Json = Record<string, unknown> & { error?: { code: string; message: string } };

/** An HS256 JWT as any sign-in service issues it (no library of ours): `sub` is the user, `exp` is required. */
function signToken(claims: Record<string, unknown>, secret: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const tokenFor = (user: string, secret: string) => signToken({ sub: user, exp: Math.floor(Date.now() / 1000) + 3600 }, secret);

async function call(dev: WranglerDev, method: string, path: string, init: { token?: string; body?: BodyInit; type?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.type) headers['content-type'] = init.type;
  const response = await fetch(`${dev.url}${path}`, { method, headers, body: init.body ?? null, signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').startsWith('application/json') ? (JSON.parse(text) as Json) : undefined;
  return { status: response.status, text, json };
}

function imageForm(image: Uint8Array<ArrayBuffer>, label?: string): FormData {
  const form = new FormData();
  if (label !== undefined) form.set('label', label);
  form.set('image', new Blob([image], { type: 'image/jpeg' }), 'photo.jpg');
  return form;
}

let project: EdgeProject;
const timings = new Timings();
const timed = timings.timed.bind(timings);

beforeAll(async () => {
  const { appDir } = await timed('install the packed package', installedPackage);
  project = await timed('write the project, fetch-model --out models', () => createEdgeProject(appDir));
}, 600_000);

afterAll(() => {
  project?.remove();
  timings.print('consumer-worker');
});

it('docs/WORKER.md shows exactly the files and commands this fixture runs', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'WORKER.md'), 'utf8');
  for (const text of [INDEX_TS, MOUNTED_TS, WRANGLER_TOML]) expect(doc).toContain(text);
  expect(doc).toContain('npx fewshot fetch-model --out models');
});

it('type-checks both entries against the installed package (app, Env, the default export)', async () => {
  expect(await typeCheck(project)).toBe('');
});

it('`wrangler deploy --dry-run` bundles it for upload: script and compiled .wasm, within the free plan\'s 3 MiB', async () => {
  const printed = await wrangler(project.dir, ['deploy', '--dry-run', '--outdir', 'bundle']);
  expect(printed).toMatch(/Read \d+ files from the assets directory/); // the models, uploaded as static assets
  const bundle = readdirSync(join(project.dir, 'bundle')).filter((f) => f.endsWith('.js') || f.endsWith('.wasm'));
  expect(bundle).toEqual(expect.arrayContaining(['index.js', expect.stringMatching(/tfjs-backend-wasm-simd\.wasm$/)]));
  const gzipped = bundle.reduce((sum, f) => sum + gzipSync(readFileSync(join(project.dir, 'bundle', f))).length, 0);
  console.log(`deployable bundle from the package: ${(gzipped / 1024).toFixed(0)} KiB gzip (${bundle.join(', ')})`);
  expect(gzipped).toBeLessThan(3 * 1024 * 1024);
});

describe('as the whole worker: src/index.ts re-exports the default', () => {
  let dev: WranglerDev;

  beforeAll(async () => {
    dev = await timed('wrangler dev src/index.ts: start', () => wranglerDev(project.dir));
  }, 180_000);
  afterAll(async () => {
    await dev?.stop();
  }, 60_000);

  it('bundles from node_modules (.wasm included) and reports the model on wasm at /healthz', async () => {
    const health = await call(dev, 'GET', '/healthz');
    expect([health.status, health.json]).toEqual([200, { ok: true, model: 'mobilenet_v2_100', dim: 1280, backend: 'wasm' }]);
    expect(dev.output()).not.toMatch(/\[ERROR\]|nodejs_compat|ENOTFOUND|EAI_AGAIN/);
  });

  it('learns 5 classes from one real photo each and classifies the held-out photos', async () => {
    const token = tokenFor(`consumer-${Date.now()}`, project.secret);
    for (const label of CLASSES) {
      const added = await call(dev, 'POST', '/v1/examples', { token, body: imageForm(imageOf(label), label) });
      expect([added.status, added.json]).toMatchObject([201, { label, count: 1 }]);
    }
    let correct = 0;
    let total = 0;
    for (const label of CLASSES) {
      for (let i = 1; i < filesOf(label).length; i++) {
        // A raw JPEG body, as `curl --data-binary @x.jpg -H 'content-type: image/jpeg'` sends it.
        const { status, json } = await call(dev, 'POST', '/v1/classify', { token, body: imageOf(label, i), type: 'image/jpeg' });
        expect(status).toBe(200);
        if (json?.label === label) correct++;
        total++;
      }
    }
    // The repository's own worker and Node both get 128/145 on these files (test/worker.test.ts); chance is 0.2.
    console.log(`installed worker, 5-way 1-shot: ${correct}/${total} = ${(correct / total).toFixed(3)}`);
    expect(total).toBe(145);
    expect(correct / total).toBeGreaterThanOrEqual(0.78);
  }, 300_000); // 150 image requests through one single-threaded isolate, on a machine that may be busy

  it('answers a bad or missing token with 401 and the usual error JSON', async () => {
    const forged = signToken({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 3600 }, 'not-the-secret');
    for (const token of [forged, undefined]) {
      const { status, json } = await call(dev, 'GET', '/v1/classes', token ? { token } : {});
      expect(status).toBe(401);
      expect(json).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
    }
  });
});

describe('as the whole worker with MODEL = "mobilenet_v3_small_075" (the .tflite from fetch-model --out models)', () => {
  let dev: WranglerDev;

  beforeAll(async () => {
    dev = await timed('wrangler dev src/index.ts, MODEL v3: start', () => wranglerDev(project.dir, ['--var', 'MODEL:mobilenet_v3_small_075']));
  }, 180_000);
  afterAll(async () => {
    await dev?.stop();
  }, 60_000);

  it('reports the model on wasm, learns 5 classes from one photo each and classifies held-out photos', async () => {
    const health = await call(dev, 'GET', '/healthz');
    expect([health.status, health.json]).toEqual([200, { ok: true, model: 'mobilenet_v3_small_075', dim: 1024, backend: 'wasm' }]);
    const token = tokenFor(`consumer-v3-${Date.now()}`, project.secret);
    for (const label of CLASSES) {
      expect((await call(dev, 'POST', '/v1/examples', { token, body: imageForm(imageOf(label), label) })).status).toBe(201);
    }
    // Images 1 to 4 of each class: Node gets 16/20 (and 111/145 on all, as the repository's worker does in test/worker.test.ts).
    let correct = 0;
    for (const label of CLASSES) {
      for (let i = 1; i <= 4; i++) {
        const { status, json } = await call(dev, 'POST', '/v1/classify', { token, body: imageOf(label, i), type: 'image/jpeg' });
        expect(status).toBe(200);
        if (json?.label === label) correct++;
      }
    }
    console.log(`installed worker, mobilenet_v3_small_075: ${correct}/20`);
    expect(correct).toBeGreaterThanOrEqual(12); // chance is 4
    expect(dev.output()).not.toMatch(/\[ERROR\]|nodejs_compat/);
  });
});

describe("mounted under the team's Hono app at /fewshot", () => {
  let dev: WranglerDev;

  beforeAll(async () => {
    dev = await timed('wrangler dev src/mounted.ts: start', () => wranglerDev(project.dir, ['src/mounted.ts']));
  }, 180_000);
  afterAll(async () => {
    await dev?.stop();
  }, 60_000);

  it('serves the API under the prefix and the team\'s routes beside it', async () => {
    expect(await call(dev, 'GET', '/')).toMatchObject({ status: 200, text: 'my app' });
    const health = await call(dev, 'GET', '/fewshot/healthz');
    expect([health.status, health.json]).toEqual([200, { ok: true, model: 'mobilenet_v2_100', dim: 1280, backend: 'wasm' }]);

    const token = tokenFor(`mounted-${Date.now()}`, project.secret);
    for (const label of ['accordion', 'brontosaurus']) {
      expect((await call(dev, 'POST', '/fewshot/v1/examples', { token, body: imageForm(imageOf(label), label) })).status).toBe(201);
    }
    const classified = await call(dev, 'POST', '/fewshot/v1/classify', { token, body: imageForm(imageOf('brontosaurus', 5)) });
    expect([classified.status, classified.json?.label]).toEqual([200, 'brontosaurus']);
    expect((await call(dev, 'GET', '/fewshot/v1/classes', { token })).json).toMatchObject({ examples: 2 });
  });

  it("answers the API's JSON errors under the prefix (its onError and 404), the team's own elsewhere", async () => {
    const token = tokenFor(`mounted-errors-${Date.now()}`, project.secret);
    const code = async (path: string, init: Parameters<typeof call>[3] = {}, method = 'GET') => {
      const { status, json, text } = await call(dev, method, path, init);
      return [status, json?.error?.code ?? text];
    };
    // Thrown in a route handler (the core's error) and in the auth middleware: the API's onError, not the team's.
    expect(await code('/fewshot/v1/classify', { token, body: imageForm(imageOf('bass')) }, 'POST')).toEqual([409, 'NO_CLASSES']);
    expect(await code('/fewshot/v1/classes')).toEqual([401, 'UNAUTHENTICATED']);
    // Unknown paths under the prefix: the API's 404, not the team's notFound.
    expect(await code('/fewshot/nope')).toEqual([404, 'ROUTE_NOT_FOUND']);
    expect(await code('/fewshot/v1/nope', { token })).toEqual([404, 'ROUTE_NOT_FOUND']);
    const unknown = await call(dev, 'DELETE', '/fewshot/v1/nope', { token });
    expect(unknown.json?.error?.message).toBe('There is no route DELETE /fewshot/v1/nope.');
    // The API lives only under the prefix: its own paths at the root are the team's 404.
    expect(await code('/healthz')).toEqual([404, 'not found']);
    expect(await code('/v1/classes', { token })).toEqual([404, 'not found']);
  });
});
