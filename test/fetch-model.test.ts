import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir, isInstalledPackage, modelDirFor, userModelCacheDir } from '../node/model-dir.js';
import { officialOrigin } from '../node/model-origins.js';
import { MODELS, type ModelSpec } from '../src/models.js';
import { closedPort, startFaultServer, type Fault, type FaultServer } from './fault-server.js';
import { cliPath, repoRoot } from './paths.js';

const run = promisify(execFile);
const made: string[] = [];
const tmp = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `fewshot-${name}-`));
  made.push(dir);
  return dir;
};
// rm does not follow symlinks: the installed copy's node_modules link goes, the repository's stays.
afterAll(() => Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true }))));
const V1 = MODELS.mobilenet_v1_025;
const V2 = MODELS.mobilenet_v2_100;
const V3 = MODELS.mobilenet_v3_small_075;

/** The official weights as vendored beside the repository (README: `--from ../shared/models`), else the tests' own copy. */
const shared = resolve(repoRoot, '..', 'shared', 'models');
const officialCopy = existsSync(shared) ? shared : defaultModelDir();

/** The environment without FEWSHOT_MODEL_DIR, so defaults are decided as on a user's machine. */
function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('FEWSHOT_MODEL_DIR' in extra)) delete env.FEWSHOT_MODEL_DIR;
  return env;
}

interface Outcome {
  code: number;
  json: any;
  stderr: string;
  ms: number;
}

/** Runs the built CLI (or another copy of it) in its own process, as `npx fewshot` does. */
async function fewshot(args: string[], options: { env?: NodeJS.ProcessEnv; cli?: string; json?: boolean } = {}): Promise<Outcome> {
  const start = Date.now();
  const argv = [options.cli ?? cliPath, ...(options.json === false ? [] : ['--json']), ...args];
  try {
    const { stdout, stderr } = await run(process.execPath, argv, { env: options.env ?? envWith(), maxBuffer: 1 << 24, timeout: 120_000 });
    return { code: 0, json: stdout && options.json !== false ? JSON.parse(stdout) : undefined, stderr, ms: Date.now() - start };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, json: e.stdout && options.json !== false ? JSON.parse(e.stdout) : undefined, stderr: e.stderr, ms: Date.now() - start };
  }
}

/** Every file a model folder must hold: model.json and the shards it names, or the one .tflite. */
function modelFiles(dir: string, spec: ModelSpec): string[] {
  if (spec.format === 'tflite') return [spec.file];
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  return ['model.json', ...manifest.weightsManifest.flatMap((g) => g.paths)];
}

/** Asserts `out/<folder>` is a byte-for-byte copy of the official model folder. */
function expectModelCopied(out: string, spec: ModelSpec): void {
  const source = join(officialCopy, spec.folder);
  for (const file of modelFiles(source, spec)) {
    expect(readFileSync(join(out, spec.folder, file)).equals(readFileSync(join(source, file))), `${spec.folder}/${file}`).toBe(true);
  }
  expect(readdirSync(join(out, spec.folder)).filter((f) => f.endsWith('.partial'))).toEqual([]);
}

/** Asserts a failed fetch left no model (and no temporary file) in `out`. */
function expectNothingWritten(out: string, spec: ModelSpec): void {
  const dir = join(out, spec.folder);
  expect(existsSync(join(dir, spec.file))).toBe(false);
  if (existsSync(dir)) expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
}

describe('fetch-model --out', () => {
  it('writes <out>/<folder>/model.json and its shards (or the .tflite) from a --from folder, and the models load from there', async () => {
    const out = join(tmp('out'), 'public', 'models'); // a web app's static folder, created as needed
    const fetched = await fewshot(['fetch-model', '--from', officialCopy, '--out', out]);
    expect(fetched.code).toBe(0);
    expect(fetched.json).toMatchObject({ models: ['mobilenet_v2_100', 'mobilenet_v1_025', 'mobilenet_v3_small_075'], out });
    expect(fetched.json.fetched.map((f: { dir: string }) => f.dir)).toEqual([join(out, V2.folder), join(out, V1.folder), join(out, V3.folder)]);
    expect(readdirSync(out).sort()).toEqual([V1.folder, V2.folder, V3.folder].sort());
    expectModelCopied(out, V2);
    expectModelCopied(out, V1);
    expectModelCopied(out, V3);

    // FEWSHOT_MODEL_DIR wins for loading too: the CLI reads the models just written, and nothing from elsewhere.
    const store = tmp('store');
    const listed = await fewshot(['--store', store, '--model', 'mobilenet_v1_025', 'list'], { env: envWith({ FEWSHOT_MODEL_DIR: out }) });
    expect(listed.code).toBe(0);
    expect(listed.json).toMatchObject({ model: 'mobilenet_v1_025', classes: [] });
    const empty = tmp('empty');
    const missing = await fewshot(['--store', tmp('store'), '--model', 'mobilenet_v1_025', 'list'], { env: envWith({ FEWSHOT_MODEL_DIR: empty }) });
    expect(missing.json.error.code).toBe('MODEL_NOT_FOUND');
    expect(missing.json.error.message).toContain(join(empty, V1.folder, 'model.json'));
    expect(missing.json.error.message).toContain('fetch-model');
  });

  it('fetches only the model chosen with --model or --only, into FEWSHOT_MODEL_DIR without --out', async () => {
    const only = tmp('only');
    expect((await fewshot(['fetch-model', '--from', officialCopy, '--only', 'mobilenet_v1_025', '--out', only])).code).toBe(0);
    expect(readdirSync(only)).toEqual([V1.folder]);
    const envDir = tmp('envdir');
    const global = await fewshot(['fetch-model', '--from', officialCopy, '--model', 'mobilenet_v1_025'], { env: envWith({ FEWSHOT_MODEL_DIR: envDir }) });
    expect(global.json).toMatchObject({ models: ['mobilenet_v1_025'], out: envDir });
    expect(readdirSync(envDir)).toEqual([V1.folder]);
    expectModelCopied(envDir, V1);
  });

  it('downloads from a mirror URL given to --from', async () => {
    const mirror = await startFaultServer(officialCopy, { models: {} });
    try {
      const out = tmp('mirror');
      const fetched = await fewshot(['fetch-model', '--from', `${mirror.url}models`, '--only', 'mobilenet_v1_025', '--out', out]);
      expect(fetched.code).toBe(0);
      expectModelCopied(out, V1);
    } finally {
      await mirror.close();
    }
  });

  it('downloads from the official URLs of src/models.ts when there is no --from', () => {
    const official = officialOrigin();
    expect(official.locate(V2, 'model.json')).toBe(V2.officialUrl);
    expect(official.locate(V2, 'group1-shard1of1')).toBe('https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v2_1.0_224/group1-shard1of1');
    expect(official.locate(V1, 'model.json')).toBe(`${V1.officialUrl}?tfjs-format=file`);
    expect(official.locate(V3, V3.file)).toBe('https://storage.googleapis.com/mediapipe-models/image_embedder/mobilenet_v3_small/float32/1/mobilenet_v3_small.tflite');
  });
});

describe('fetch-model failures name the URL, the cause and --from, and write nothing', () => {
  let mirror: FaultServer;
  const manifest = `${V1.folder}/model.json`;
  const shard = `${V1.folder}/group1-shard1of1`;
  const fail = (file: string, fault: Fault) => ({ [file]: fault });
  beforeAll(async () => {
    mirror = await startFaultServer(officialCopy, {
      close: fail(manifest, 'close'),
      badjson: fail(manifest, 'short'),
      error: fail(shard, 'error'),
      truncate: fail(shard, 'truncate'),
      short: fail(shard, 'short'),
      stall: fail(shard, 'stall'),
      v3short: fail(`${V3.folder}/${V3.file}`, 'short'),
      v3truncate: fail(`${V3.folder}/${V3.file}`, 'truncate'),
    });
  });
  afterAll(() => mirror.close());

  // The mirror serves each case under its own prefix; files without a fault are served as they are, 'missing/' is no scenario.
  const cases: [string, string, RegExp][] = [
    ['HTTP 404', 'missing/', /: HTTP 404 Not Found\./],
    ['HTTP 500 on a shard', 'error/', /group1-shard1of1 \(mobilenet_v1_025\): HTTP 500 Internal Server Error\./],
    ['a closed socket', 'close/', /model\.json \(mobilenet_v1_025\): other side closed\./],
    ['a body cut short', 'truncate/', /group1-shard1of1 \(mobilenet_v1_025\): the body broke off \(terminated: other side closed\)\./],
    ['invalid JSON', 'badjson/', /model\.json \(mobilenet_v1_025\): not a TF\.js model\.json \(.+\)\./],
    ['a shard shorter than model.json says', 'short/', /group1-shard1of1 \(mobilenet_v1_025\): group1-shard1of1: \d+ bytes where model\.json says \d+/],
  ];
  it.each(cases)('%s', async (_, prefix, cause) => {
    const out = tmp('fail');
    const failed = await fewshot(['fetch-model', '--from', `${mirror.url}${prefix}`, '--only', 'mobilenet_v1_025', '--out', out]);
    expect(failed.code).toBe(1);
    expect(failed.json.error.code).toBe('MODEL_NOT_FOUND');
    const { message } = failed.json.error as { message: string };
    expect(message).toMatch(new RegExp(`^Could not download ${mirror.url}${prefix}${V1.folder}/`));
    expect(message).toMatch(cause);
    expect(message).toContain('--from <folder>');
    expectNothingWritten(out, V1);
  });

  it('a .tflite cut short or replaced: refused by its SHA-256, nothing written', async () => {
    for (const prefix of ['v3short/', 'v3truncate/']) {
      const out = tmp('v3fail');
      const failed = await fewshot(['fetch-model', '--from', `${mirror.url}${prefix}`, '--only', 'mobilenet_v3_small_075', '--out', out]);
      expect(failed.code).toBe(1);
      expect(failed.json.error.message).toMatch(new RegExp(`^Could not download ${mirror.url}${prefix}${V3.folder}/${V3.file} \\(mobilenet_v3_small_075\\): `));
      expect(failed.json.error.message).toMatch(prefix === 'v3short/' ? /its SHA-256 is [0-9a-f]{64}, the official file's is bbbb4c51/ : /the body broke off/);
      expectNothingWritten(out, V3);
    }
  });

  it('a server that stops sending: the --timeout bounds the wait', async () => {
    const out = tmp('stall');
    const failed = await fewshot(['fetch-model', '--from', `${mirror.url}stall/`, '--only', 'mobilenet_v1_025', '--out', out, '--timeout', '1']);
    expect(failed.code).toBe(1);
    expect(failed.json.error.message).toMatch(new RegExp(`^Could not download ${mirror.url}stall/${V1.folder}/group1-shard1of1 .*no complete answer within 1 s`));
    expect(failed.json.error.message).toContain('--from <folder>');
    expect(failed.ms).toBeLessThan(20_000);
    expectNothingWritten(out, V1);
  });

  it('a refused connection and an unknown host', async () => {
    const port = await closedPort();
    const refused = await fewshot(['fetch-model', '--from', `http://127.0.0.1:${port}/models`, '--only', 'mobilenet_v1_025', '--out', tmp('refused')]);
    expect(refused.json.error.message).toMatch(new RegExp(`^Could not download http://127\\.0\\.0\\.1:${port}/models/${V1.folder}/model\\.json \\(mobilenet_v1_025\\): connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\. `));
    // .invalid never resolves (RFC 6761): a real DNS failure, with or without network.
    const unknown = await fewshot(['fetch-model', '--from', 'https://models.invalid/', '--out', tmp('dns')]);
    expect(unknown.code).toBe(1);
    expect(unknown.json.error.message).toMatch(/^Could not download https:\/\/models\.invalid\/mobilenet_v2_100_224_feature\/model\.json \(mobilenet_v2_100\): getaddrinfo (ENOTFOUND|EAI_AGAIN) models\.invalid\. /);
    expect(unknown.json.error.message).toContain('--from <folder>');
  });

  it('without --json: the message on stderr, exit code 1', async () => {
    const failed = await fewshot(['fetch-model', '--from', `${mirror.url}missing/`, '--out', tmp('human')], { json: false });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`fewshot: MODEL_NOT_FOUND: Could not download ${mirror.url}missing/${V2.folder}/model.json (mobilenet_v2_100): HTTP 404`);
    expect(failed.stderr).toContain('--from <folder>');
  });

  it('a failed fetch keeps the complete model an earlier fetch wrote', async () => {
    const out = tmp('keep');
    expect((await fewshot(['fetch-model', '--from', officialCopy, '--only', 'mobilenet_v1_025', '--out', out])).code).toBe(0);
    const failed = await fewshot(['fetch-model', '--from', `${mirror.url}truncate/`, '--only', 'mobilenet_v1_025', '--out', out]);
    expect(failed.code).toBe(1);
    expectModelCopied(out, V1);
  });

  it('a --from folder without the model, or without the folder, says what it needs', async () => {
    const empty = tmp('from-empty');
    const none = await fewshot(['fetch-model', '--from', empty, '--out', tmp('x')]);
    expect(none.code).toBe(1);
    expect(none.json.error).toEqual({
      code: 'MODEL_NOT_FOUND',
      message:
        `No mobilenet_v2_100 model in ${empty}: ${join(empty, V2.folder, 'model.json')} does not exist. --from needs a folder laid out like the ` +
        `official one, with one sub-folder per model (${V2.folder}/model.json and its shards). To copy only one model, pick it with --model NAME.`,
    });
    mkdirSync(join(empty, V1.folder));
    copyFileSync(join(officialCopy, V1.folder, 'model.json'), join(empty, V1.folder, 'model.json'));
    const shardless = await fewshot(['fetch-model', '--from', empty, '--only', 'mobilenet_v1_025', '--out', tmp('x')]);
    expect(shardless.json.error.message).toBe(`Cannot copy mobilenet_v1_025 from ${join(empty, V1.folder, 'group1-shard1of1')}: the file is missing, but model.json names it.`);
    const nowhere = await fewshot(['fetch-model', '--from', join(empty, 'nowhere'), '--out', tmp('x')]);
    expect(nowhere.json.error.message).toMatch(/^--from .*nowhere: no such folder\. /);
  });
});

describe('default models folder', () => {
  it('is FEWSHOT_MODEL_DIR, else the per-user cache for an installed package, else the checkout\'s models/', () => {
    const cache = resolve('/cache/fewshot-edge/models');
    expect(modelDirFor({ packageRoot: '/app/node_modules/fewshot-edge', userCacheDir: cache })).toBe(cache);
    expect(modelDirFor({ packageRoot: '/app/node_modules/.pnpm/fewshot-edge@0.1.0/node_modules/fewshot-edge', userCacheDir: cache })).toBe(cache);
    expect(modelDirFor({ packageRoot: '/app/node_modules/fewshot-edge', envDir: '/srv/models', userCacheDir: cache })).toBe(resolve('/srv/models'));
    expect(modelDirFor({ packageRoot: '/src/fewshot-edge', userCacheDir: cache })).toBe(join(resolve('/src/fewshot-edge'), 'models'));
    expect(modelDirFor({ packageRoot: '/src/fewshot-edge', envDir: '', userCacheDir: cache })).toBe(join(resolve('/src/fewshot-edge'), 'models'));
    expect(isInstalledPackage('C:\\app\\node_modules\\fewshot-edge')).toBe(true);
    expect(isInstalledPackage('/home/me/node_modules_old/fewshot-edge')).toBe(false);
    // This checkout: the repository's own models/ (CI and wrangler.toml read it), unless FEWSHOT_MODEL_DIR says otherwise.
    expect(defaultModelDir()).toBe(resolve(process.env.FEWSHOT_MODEL_DIR || join(repoRoot, 'models')));
  });

  it('the per-user cache follows the platform convention', () => {
    const saved = process.env.XDG_CACHE_HOME;
    try {
      process.env.XDG_CACHE_HOME = '/xdg/cache';
      const expected =
        process.platform === 'darwin'
          ? join(process.env.HOME ?? '', 'Library', 'Caches', 'fewshot-edge', 'models')
          : process.platform === 'win32'
            ? join(process.env.LOCALAPPDATA ?? '', 'fewshot-edge', 'Cache', 'models')
            : join('/xdg/cache', 'fewshot-edge', 'models');
      expect(userModelCacheDir()).toBe(expected);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });

  it('an installed copy fetches into the per-user cache and loads its models from there; FEWSHOT_MODEL_DIR wins', async () => {
    // The built package laid out as npm installs it, without npm: <app>/node_modules/fewshot-edge/{package.json,dist}.
    const app = tmp('installed');
    const pkg = join(app, 'node_modules', 'fewshot-edge');
    for (const part of ['node', 'src']) cpSync(join(repoRoot, 'dist', part), join(pkg, 'dist', part), { recursive: true });
    copyFileSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'), 'junction'); // its dependencies
    const cli = join(pkg, 'dist', 'node', 'cli.js');
    const home = join(app, 'home');
    const env = envWith({ HOME: home, USERPROFILE: home, XDG_CACHE_HOME: join(home, 'xdg-cache'), LOCALAPPDATA: join(home, 'local') });
    const expected =
      process.platform === 'darwin'
        ? join(home, 'Library', 'Caches', 'fewshot-edge', 'models')
        : process.platform === 'win32'
          ? join(home, 'local', 'fewshot-edge', 'Cache', 'models')
          : join(home, 'xdg-cache', 'fewshot-edge', 'models');

    const fetched = await fewshot(['fetch-model', '--from', officialCopy, '--only', 'mobilenet_v1_025'], { cli, env });
    expect(fetched.code).toBe(0);
    expect(fetched.json.out).toBe(expected);
    expectModelCopied(expected, V1);
    expect(existsSync(join(pkg, 'models'))).toBe(false);
    const listed = await fewshot(['--store', join(app, 'store'), '--model', 'mobilenet_v1_025', 'list'], { cli, env });
    expect(listed.code).toBe(0);
    expect(listed.json.model).toBe('mobilenet_v1_025');

    const envDir = join(app, 'env-models');
    const overridden = await fewshot(['fetch-model', '--from', officialCopy, '--only', 'mobilenet_v1_025'], { cli, env: { ...env, FEWSHOT_MODEL_DIR: envDir } });
    expect(overridden.json.out).toBe(envDir);
    expectModelCopied(envDir, V1);
  });
});
