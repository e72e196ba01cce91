/**
 * npm run bench:worker [-- --json] [--quick] [--out docs/bench-worker.json] [--only mobilenet_v3_small_075:false,...]
 *
 * The Cloudflare Worker (workers/, wrangler.toml) in real workerd through `wrangler dev`, offline, for
 * mobilenet_v2_100, mobilenet_v1_025 and mobilenet_v3_small_075, each with FLIP=true (the default) and
 * FLIP=false (`--only` runs the listed `model:flip` configurations alone, for a quicker look):
 *
 *  1. bundle size without the weights (`wrangler deploy --dry-run --outdir`): script + .wasm, raw and
 *     gzip -9, and wrangler's own "Total Upload ... gzip" line (same script for every MODEL/FLIP)
 *  2. cold start: spawn `wrangler dev` -> "Ready on" -> first POST /v1/examples (loads the model) ->
 *     first POST /v1/classify answered 200; median of 3 fresh processes (1 with --quick)
 *
 * Every `wrangler dev` runs the bundle built in step 1 (a copy of wrangler.toml pointing at it, `no_bundle`,
 * assets still ./models), not workers/*.ts: wrangler dev always watches its sources and would reload the
 * worker (new workerd process, lost CPU counters) whenever someone edits workers/ or src/ during the run.
 *  3. CPU ms per warm classify (a real Caltech JPEG, and an embedding as JSON): utime+stime from
 *     /proc/<pid>/stat of the workerd processes wrangler spawned, before and after N sequential
 *     requests, over N (Date.now is frozen inside a worker, so the worker cannot time itself);
 *     wall latency p50/p95 of the same requests; GET /v1/classes (JWT + KV, no model) as the floor; and the
 *     embedding classify again for a second user with 20 classes x 5 examples (`embedding_20x5`: imported
 *     vectors, the query's embedding plus seeded noise, since the cost depends on sizes, not values), where
 *     the head's calibration is fitted on the examples
 *  4. requests per second at concurrency 4 on loopback for ~10 s (3 s with --quick), errors counted
 *  5. the reference: the Node SDK (`createClassifier`, node/index.ts, in-thread WASM, same model and flip)
 *     on the same image and embedding, CPU ms per classify from process.cpuUsage()
 *
 * Progress goes to stderr; with --json stdout carries exactly one JSON object. `--out <file>` also writes it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { sign } from 'hono/jwt';
import { createClassifier, MemoryStore, type FewShotClassifier, type ModelName } from '../node/index.js';
import { encodeExamples } from '../src/codec.js';
import { seededRandom } from '../src/episodes.js';
import { datasetsDir, ensureModelDir, loadCaltechImages, REPO_ROOT, type BenchImage } from './env.js';
import { emitReport } from './output.js';
import { log, median, now, ratio, round } from './stats.js';

// ---------------------------------------------------------------------------------------------- options

interface Options {
  json: boolean;
  quick: boolean;
  out: string | undefined;
  /** `model:flip` names of the configurations to run; all when undefined. */
  only: string[] | undefined;
}

interface Plan {
  coldRuns: number;
  warmups: number;
  imageRequests: number;
  embeddingRequests: number;
  nodeImageReps: number;
  nodeEmbeddingReps: number;
  rpsSeconds: number;
  concurrency: number;
}

interface Config {
  model: ModelName;
  flip: boolean;
}

const CONFIGS: readonly Config[] = [
  { model: 'mobilenet_v2_100', flip: true },
  { model: 'mobilenet_v1_025', flip: true },
  { model: 'mobilenet_v3_small_075', flip: true },
  { model: 'mobilenet_v2_100', flip: false },
  { model: 'mobilenet_v1_025', flip: false },
  { model: 'mobilenet_v3_small_075', flip: false },
];

/** Cloudflare Workers free plan: 10 ms CPU per request. */
const FREE_PLAN_CPU_MS = 10;
const BUNDLE_TARGET_GZIP_BYTES = 1_000_000;
const JWT_SECRET = 'worker-bench-secret-3c1d9a7e5b';
const USER = 'bench-user';
const EXAMPLE_CLASSES = 5;
/** The second user's store: classes x examples, every class with enough to fit the calibration. */
const LARGE_USER = { sub: 'bench-user-20x5', classes: 20, shots: 5 };
const WRANGLER_JS = join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const OFFLINE_ENV: NodeJS.ProcessEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false }, out: { type: 'string' }, only: { type: 'string' } },
    strict: true,
  });
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of only ?? []) {
    if (!CONFIGS.some((c) => configKey(c) === name)) throw new Error(`--only ${name}: not one of ${CONFIGS.map(configKey).join(', ')}.`);
  }
  return { json: values.json ?? false, quick: values.quick ?? false, out: values.out, only };
}

const configKey = (c: Config): string => `${c.model}:${c.flip}`;

function planFor(quick: boolean): Plan {
  return quick
    ? { coldRuns: 1, warmups: 3, imageRequests: 10, embeddingRequests: 150, nodeImageReps: 10, nodeEmbeddingReps: 2000, rpsSeconds: 3, concurrency: 4 }
    : { coldRuns: 3, warmups: 20, imageRequests: 60, embeddingRequests: 600, nodeImageReps: 60, nodeEmbeddingReps: 20000, rpsSeconds: 10, concurrency: 4 };
}

const configName = (c: Config): string => `${c.model} flip=${c.flip}`;

// ------------------------------------------------------------------------------------------- processes

/** Process groups still alive and temporary folders, cleaned up on any exit path (error, Ctrl-C). */
const liveGroups = new Set<number>();
const tempDirs = new Set<string>();

async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

process.on('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
    process.exit(130);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

interface DevServer {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  persist: string;
  /** ms from spawn to wrangler's "Ready on" line. */
  ready: Promise<number>;
  tail: string[];
}

/** `wrangler dev` of the built bundle on a free port with fresh local KV, in its own process group. */
async function startDevServer(config: Config, builtDir: string): Promise<DevServer> {
  const port = await freePort();
  const persist = await makeTempDir('fewshot-worker-kv-');
  const args = [
    WRANGLER_JS, 'dev',
    '--config', join(builtDir, 'wrangler.toml'),
    '--port', String(port),
    '--ip', '127.0.0.1',
    '--inspector-port', '0',
    '--persist-to', persist,
    '--show-interactive-dev-session=false',
    '--var', `MODEL:${config.model}`,
    '--var', `FLIP:${config.flip}`,
    '--var', `JWT_SECRET:${JWT_SECRET}`,
  ];
  const t0 = now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: OFFLINE_ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('wrangler dev did not start.');
  const pid = child.pid;
  liveGroups.add(pid);
  const tail: string[] = [];
  const ready = new Promise<number>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev not ready after 120 s:\n${tail.join('\n')}`)), 120_000);
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim()) tail.push(line);
        if (tail.length > 60) tail.shift();
        if (/Ready on http/.test(line)) {
          clearTimeout(timer);
          resolveReady(now() - t0);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`wrangler dev exited (${code ?? signal}) before it was ready:\n${tail.join('\n')}`));
    });
  });
  ready.catch(() => undefined); // observed by the caller; avoids an unhandled rejection after stop()
  return { child, pid, port, url: `http://127.0.0.1:${port}`, persist, ready, tail };
}

async function stopDevServer(server: DevServer): Promise<void> {
  killGroup(server.pid, 'SIGTERM');
  if (!(await waitExit(server.child, 10_000))) log(`wrangler ${server.pid} ignored SIGTERM; killing its group`);
  // workerd children share the group: make sure none outlives wrangler.
  await new Promise((r) => setTimeout(r, 300));
  killGroup(server.pid, 'SIGKILL');
  liveGroups.delete(server.pid);
  await removeTempDir(server.persist);
}

// --------------------------------------------------------------------------------------- /proc CPU time

const CLOCK_TICKS = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a whole process (all its threads) in ms, or null when it is gone. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime field 14, stime field 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while listing
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

interface WorkerdProcess {
  pid: number;
  /** `proxy`: wrangler's dev proxy, which owns the public port; `worker`: the instance running our script. */
  role: 'proxy' | 'worker';
}

interface Processes {
  workerd: WorkerdProcess[];
  /** wrangler's own Node processes (launcher + CLI), to show they do no per-request work. */
  node: number[];
}

function findProcesses(server: DevServer): Processes {
  const all = descendants(server.pid);
  const workerd = all
    .filter((pid) => cmdline(pid).includes('workerd'))
    .map((pid): WorkerdProcess => ({ pid, role: cmdline(pid).includes(`entry=127.0.0.1:${server.port} `) ? 'proxy' : 'worker' }));
  if (workerd.length === 0) throw new Error(`No workerd process under wrangler ${server.pid}.`);
  const node = [server.pid, ...all.filter((pid) => /\bnode\b|wrangler/.test(cmdline(pid)) && !cmdline(pid).includes('workerd') && !cmdline(pid).includes('esbuild'))];
  return { workerd, node };
}

type CpuSnapshot = Map<number, number>;

function snapshot(pids: readonly number[]): CpuSnapshot {
  return new Map(pids.map((pid) => [pid, processCpuMs(pid) ?? Number.NaN]));
}

function cpuDelta(before: CpuSnapshot, after: CpuSnapshot, pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + ((after.get(pid) ?? Number.NaN) - (before.get(pid) ?? Number.NaN)), 0);
}

/** A counter that vanished means workerd restarted mid-measurement: its numbers would be wrong, so stop. */
function assertAlive(after: CpuSnapshot, what: string): void {
  const gone = [...after].filter(([, ms]) => Number.isNaN(ms)).map(([pid]) => pid);
  if (gone.length > 0) throw new Error(`${what}: process(es) ${gone.join(', ')} exited during the measurement (workerd restarted?).`);
}

// ------------------------------------------------------------------------------------------ requests

type Ms = number | null;

interface Client {
  url: string;
  auth: string;
}

async function expectOk(response: Response, what: string, status = 200): Promise<unknown> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

async function addExample(client: Client, image: BenchImage): Promise<void> {
  const response = await fetch(`${client.url}/v1/examples?label=${encodeURIComponent(image.label)}`, {
    method: 'POST',
    headers: { authorization: client.auth, 'content-type': 'image/jpeg' },
    body: new Uint8Array(image.bytes),
  });
  await expectOk(response, `POST /v1/examples (${image.label})`, 201);
}

/**
 * What a measured request sends: POST /v1/classify with an image (copied once into its own ArrayBuffer, as
 * fetch's BodyInit wants) or an embedding, or the no-model baseline GET /v1/classes (auth + KV read).
 */
type Query = { kind: 'image'; bytes: Uint8Array<ArrayBuffer> } | { kind: 'embedding'; json: string } | { kind: 'classes' };

async function classify(client: Client, query: Query): Promise<string> {
  if (query.kind === 'classes') {
    const listed = (await expectOk(await fetch(`${client.url}/v1/classes`, { headers: { authorization: client.auth } }), 'GET /v1/classes')) as { examples?: unknown };
    return `${String(listed.examples)} examples`;
  }
  const response = await fetch(`${client.url}/v1/classify`, {
    method: 'POST',
    headers: { authorization: client.auth, 'content-type': query.kind === 'image' ? 'image/jpeg' : 'application/json' },
    body: query.kind === 'image' ? query.bytes : query.json,
  });
  const prediction = (await expectOk(response, `POST /v1/classify (${query.kind})`)) as { label?: unknown };
  return String(prediction.label);
}

async function bearer(sub = USER): Promise<string> {
  const t = Math.floor(Date.now() / 1000);
  return `Bearer ${await sign({ sub, iat: t, exp: t + 6 * 3600 }, JWT_SECRET, 'HS256')}`;
}

/** Gives the client's user LARGE_USER's store through PUT /v1/import: vectors around `embedding`. */
async function importLargeStore(client: Client, model: ModelName, embedding: Float32Array): Promise<void> {
  const random = seededRandom(7);
  const examples = Array.from({ length: LARGE_USER.classes * LARGE_USER.shots }, (_, i) => ({
    id: `large-${i}`,
    label: `class-${i % LARGE_USER.classes}`,
    model,
    createdAt: i,
    embedding: embedding.map((x) => x * (1 + 0.3 * (random() - 0.5))),
  }));
  const response = await fetch(`${client.url}/v1/import`, {
    method: 'PUT',
    headers: { authorization: client.auth, 'content-type': 'application/json' },
    body: JSON.stringify(encodeExamples(model, examples)),
  });
  await expectOk(response, 'PUT /v1/import');
}

function percentile(samples: readonly number[], p: number): Ms {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
}

// ----------------------------------------------------------------------------------------- the steps

interface BundleResult {
  files: { name: string; raw_bytes: number; gzip9_bytes: number }[];
  total_raw_bytes: number;
  total_gzip9_bytes: number;
  /** What wrangler prints: "Total Upload: <x> KiB / gzip: <y> KiB". */
  wrangler_total_upload_kib: number | null;
  wrangler_gzip_kib: number | null;
  excluded: string[];
  target: string;
  pass: boolean;
}

/**
 * Step 1: `wrangler deploy --dry-run --outdir`, script + wasm modules (source map and weights excluded).
 * Leaves in `outdir` a wrangler.toml that runs exactly this bundle (see the header).
 */
async function buildWorker(outdir: string): Promise<BundleResult> {
  const printed = await new Promise<string>((resolveRun, reject) => {
    const child = spawn(process.execPath, [WRANGLER_JS, 'deploy', '--dry-run', '--outdir', outdir], { cwd: REPO_ROOT, env: OFFLINE_ENV });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolveRun(text) : reject(new Error(`wrangler deploy --dry-run failed (${code}):\n${text}`))));
  });
  const names = (await readdir(outdir)).sort();
  const modules = names.filter((n) => n.endsWith('.js') || n.endsWith('.mjs') || n.endsWith('.wasm'));
  const files = await Promise.all(
    modules.map(async (name) => {
      const bytes = await readFile(join(outdir, name));
      return { name: name.replace(/^[0-9a-f]{40}-/, ''), raw_bytes: bytes.length, gzip9_bytes: gzipSync(bytes, { level: 9 }).length };
    }),
  );
  const match = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(printed);
  const totalGzip = files.reduce((s, f) => s + f.gzip9_bytes, 0);
  await writeBuiltConfig(outdir);
  return {
    files,
    total_raw_bytes: files.reduce((s, f) => s + f.raw_bytes, 0),
    total_gzip9_bytes: totalGzip,
    wrangler_total_upload_kib: match ? Number(match[1]) : null,
    wrangler_gzip_kib: match ? Number(match[2]) : null,
    excluded: names.filter((n) => !modules.includes(n)).concat(['models/ (static assets)']),
    target: `< ${BUNDLE_TARGET_GZIP_BYTES} bytes gzip (script + wasm)`,
    pass: totalGzip < BUNDLE_TARGET_GZIP_BYTES,
  };
}

/** wrangler.toml with `main` = the built script (no bundling) and the assets folder as an absolute path. */
async function writeBuiltConfig(outdir: string): Promise<void> {
  const script = (await readdir(outdir)).find((n) => n === 'index.js');
  if (!script) throw new Error(`wrangler deploy --dry-run wrote no index.js in ${outdir}.`);
  let toml = await readFile(join(REPO_ROOT, 'wrangler.toml'), 'utf8');
  const replaceOnce = (pattern: RegExp, value: string): void => {
    if ((toml.match(new RegExp(pattern.source, 'gm')) ?? []).length !== 1) throw new Error(`wrangler.toml: expected one line matching ${pattern}.`);
    toml = toml.replace(new RegExp(pattern.source, 'm'), value);
  };
  replaceOnce(/^main\s*=.*$/, `main = "${script}"\nno_bundle = true\nfind_additional_modules = true`);
  replaceOnce(/^directory\s*=.*$/, `directory = ${JSON.stringify(join(REPO_ROOT, 'models'))}`);
  await writeFile(join(outdir, 'wrangler.toml'), toml);
}

interface ColdRun {
  process_ready_ms: number;
  first_example_ms: number;
  first_classify_ms: number;
  total_ms: number;
}

/** Step 2, one run: spawn -> ready -> first POST /v1/examples (model load) -> first classify. */
async function coldRun(server: DevServer, t0: number, client: Client, example: BenchImage, query: BenchImage): Promise<ColdRun> {
  const readyMs = await server.ready;
  const tReady = now();
  await addExample(client, example);
  const tExample = now();
  await classify(client, { kind: 'image', bytes: new Uint8Array(query.bytes) });
  const tEnd = now();
  return { process_ready_ms: round(readyMs) as number, first_example_ms: round(tExample - tReady) as number, first_classify_ms: round(tEnd - tExample) as number, total_ms: round(tEnd - t0) as number };
}

interface CpuResult {
  requests: number;
  /** utime+stime of every workerd process wrangler spawned, per request. */
  cpu_ms_per_request: Ms;
  /** The workerd instance running our script only (the dev proxy excluded): what a CPU limit counts. */
  cpu_ms_per_request_worker_only: Ms;
  cpu_ms_per_request_proxy: Ms;
  /** wrangler's Node processes during the same requests (should be ~0: not on the request path). */
  cpu_ms_per_request_wrangler_node: Ms;
  wall_ms_p50: Ms;
  wall_ms_p95: Ms;
  wall_ms_mean: Ms;
}

/** Step 3: N sequential warm requests, CPU deltas from /proc over N, wall latency per request. */
async function measureCpu(procs: Processes, client: Client, query: Query, requests: number, warmups: number): Promise<CpuResult> {
  for (let i = 0; i < warmups; i++) await classify(client, query);
  const pids = [...procs.workerd.map((p) => p.pid), ...procs.node];
  const walls: number[] = [];
  const before = snapshot(pids);
  for (let i = 0; i < requests; i++) {
    const t0 = now();
    await classify(client, query);
    walls.push(now() - t0);
  }
  const after = snapshot(pids);
  assertAlive(after, `CPU ${query.kind}`);
  const of = (role: WorkerdProcess['role']): number[] => procs.workerd.filter((p) => p.role === role).map((p) => p.pid);
  const per = (list: number[]): Ms => (list.length === 0 ? null : round(cpuDelta(before, after, list) / requests));
  return {
    requests,
    cpu_ms_per_request: per(procs.workerd.map((p) => p.pid)),
    cpu_ms_per_request_worker_only: per(of('worker')),
    cpu_ms_per_request_proxy: per(of('proxy')),
    cpu_ms_per_request_wrangler_node: per(procs.node),
    wall_ms_p50: percentile(walls, 50),
    wall_ms_p95: percentile(walls, 95),
    wall_ms_mean: round(walls.reduce((a, b) => a + b, 0) / walls.length),
  };
}

interface RpsResult {
  concurrency: number;
  seconds: number;
  ok: number;
  errors: number;
  first_error: string | null;
  rps: Ms;
  wall_ms_p50: Ms;
  wall_ms_p95: Ms;
  /** workerd CPU (all processes) per successful request under load. */
  cpu_ms_per_request: Ms;
  /** Share of one core the workerd processes used: 1.0 = one core busy the whole time. */
  workerd_cores_busy: Ms;
}

/** Step 4: `concurrency` loops of back-to-back requests for `seconds`. */
async function measureRps(procs: Processes, client: Client, query: Query, seconds: number, concurrency: number): Promise<RpsResult> {
  const pids = procs.workerd.map((p) => p.pid);
  const walls: number[] = [];
  let ok = 0;
  let errors = 0;
  let firstError: string | null = null;
  const before = snapshot(pids);
  const t0 = now();
  const deadline = t0 + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (now() < deadline) {
      const t = now();
      try {
        await classify(client, query);
        walls.push(now() - t);
        ok++;
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = now() - t0;
  const after = snapshot(pids);
  assertAlive(after, `rps ${query.kind}`);
  const cpu = cpuDelta(before, after, pids);
  return {
    concurrency,
    seconds: round(elapsed / 1000) as number,
    ok,
    errors,
    first_error: firstError,
    rps: round(ok / (elapsed / 1000)),
    wall_ms_p50: percentile(walls, 50),
    wall_ms_p95: percentile(walls, 95),
    cpu_ms_per_request: ok > 0 ? round(cpu / ok) : null,
    workerd_cores_busy: round(cpu / elapsed),
  };
}

interface NodeResult {
  backend: string;
  image: { reps: number; cpu_ms_per_classify: Ms; wall_ms_p50: Ms };
  embedding: { reps: number; cpu_ms_per_classify: Ms; wall_ms_p50: Ms };
}

/** Step 5: the Node SDK in this process (workers: 0, the model in this thread), same examples and query. */
async function measureNode(
  config: Config,
  examples: readonly BenchImage[],
  query: BenchImage,
  plan: Plan,
): Promise<{ result: NodeResult; embedding: Float32Array; label: string }> {
  const classifier: FewShotClassifier = await createClassifier({ userId: 'bench', store: new MemoryStore(), model: config.model, workers: 0, flip: config.flip });
  if (classifier.info().flip !== config.flip) throw new Error(`Node classifier flip is ${classifier.info().flip}, wanted ${config.flip}.`);
  for (const image of examples) await classifier.addExample(image.label, image.bytes);
  for (let i = 0; i < plan.warmups; i++) await classifier.classify(query.bytes);
  const embedding = await classifier.embed(query.bytes);
  const label = (await classifier.classify(query.bytes)).label ?? 'null';

  const timeImage = async (): Promise<NodeResult['image']> => {
    const walls: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < plan.nodeImageReps; i++) {
      const t = now();
      await classifier.classify(query.bytes);
      walls.push(now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    return { reps: plan.nodeImageReps, cpu_ms_per_classify: round((cpu.user + cpu.system) / 1000 / plan.nodeImageReps), wall_ms_p50: percentile(walls, 50) };
  };
  const timeEmbedding = (): NodeResult['embedding'] => {
    const walls: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < plan.nodeEmbeddingReps; i++) {
      const t = now();
      classifier.classifyEmbedding(embedding);
      walls.push(now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    return { reps: plan.nodeEmbeddingReps, cpu_ms_per_classify: round((cpu.user + cpu.system) / 1000 / plan.nodeEmbeddingReps), wall_ms_p50: percentile(walls, 50) };
  };
  const image = await timeImage();
  const embeddingResult = timeEmbedding();
  return { result: { backend: classifier.info().backend, image, embedding: embeddingResult }, embedding, label };
}

// ---------------------------------------------------------------------------------------- per config

interface ConfigResult {
  model: ModelName;
  flip: boolean;
  dim: number;
  workerd_processes: { pid: number; role: string }[];
  cold_start: {
    runs: ColdRun[];
    median: { process_ready_ms: Ms; first_example_ms: Ms; first_classify_ms: Ms; total_ms: Ms };
  };
  /** `classes` = GET /v1/classes: bearer JWT + reading the user's examples from KV, no model: the per-request floor. */
  cpu: { image: CpuResult; embedding: CpuResult; classes: CpuResult; embedding_20x5: CpuResult };
  rps: { image: RpsResult; embedding: RpsResult };
  node: NodeResult;
  /** workerd CPU per classify / Node SDK CPU per classify (workerd summed over its processes; worker-only beside). */
  ratio_workerd_vs_node: { image: number | null; image_worker_only: number | null; embedding: number | null; embedding_worker_only: number | null };
  /** Prediction for the query image from the worker and from the Node SDK (same examples): should agree. */
  prediction: { worker: string; node: string };
  free_plan_10ms: { image: boolean | null; embedding: boolean | null };
}

async function benchConfig(config: Config, builtDir: string, examples: readonly BenchImage[], query: BenchImage, plan: Plan): Promise<ConfigResult> {
  log(`${configName(config)}: Node SDK reference (in-thread wasm)`);
  const node = await measureNode(config, examples, query, plan);
  const embeddingQuery: Query = { kind: 'embedding', json: JSON.stringify({ embedding: Array.from(node.embedding), model: config.model }) };
  const imageQuery: Query = { kind: 'image', bytes: new Uint8Array(query.bytes) };
  const auth = await bearer();

  const runs: ColdRun[] = [];
  let server: DevServer | undefined;
  try {
    for (let run = 0; run < plan.coldRuns; run++) {
      log(`${configName(config)}: cold start ${run + 1}/${plan.coldRuns}`);
      const t0 = now();
      server = await startDevServer(config, builtDir);
      runs.push(await coldRun(server, t0, { url: server.url, auth }, examples[0] as BenchImage, query));
      if (run < plan.coldRuns - 1) {
        await stopDevServer(server);
        server = undefined;
      }
    }
    if (!server) throw new Error('no server');
    const client: Client = { url: server.url, auth };
    for (const image of examples.slice(1)) await addExample(client, image);
    const procs = findProcesses(server);
    const workerLabel = await classify(client, imageQuery);

    log(`${configName(config)}: CPU per classify, ${plan.imageRequests} image requests`);
    const cpuImage = await measureCpu(procs, client, imageQuery, plan.imageRequests, plan.warmups);
    log(`${configName(config)}: CPU per classify, ${plan.embeddingRequests} embedding requests`);
    const cpuEmbedding = await measureCpu(procs, client, embeddingQuery, plan.embeddingRequests, plan.warmups * 5);
    log(`${configName(config)}: CPU per request, ${plan.embeddingRequests} GET /v1/classes (no-model baseline)`);
    const cpuClasses = await measureCpu(procs, client, { kind: 'classes' }, plan.embeddingRequests, plan.warmups * 5);
    log(`${configName(config)}: CPU per classify, ${plan.embeddingRequests} embedding requests, ${LARGE_USER.classes} classes x ${LARGE_USER.shots} examples`);
    const large: Client = { url: server.url, auth: await bearer(LARGE_USER.sub) };
    await importLargeStore(large, config.model, node.embedding);
    const cpuLarge = await measureCpu(procs, large, embeddingQuery, plan.embeddingRequests, plan.warmups * 5);
    log(`${configName(config)}: requests/s, image, concurrency ${plan.concurrency}, ${plan.rpsSeconds} s`);
    const rpsImage = await measureRps(procs, client, imageQuery, plan.rpsSeconds, plan.concurrency);
    log(`${configName(config)}: requests/s, embedding, concurrency ${plan.concurrency}, ${plan.rpsSeconds} s`);
    const rpsEmbedding = await measureRps(procs, client, embeddingQuery, plan.rpsSeconds, plan.concurrency);

    const med = (pick: (r: ColdRun) => number): Ms => round(median(runs.map(pick)));
    const fits = (v: Ms): boolean | null => (v === null ? null : v <= FREE_PLAN_CPU_MS);
    return {
      model: config.model,
      flip: config.flip,
      dim: node.embedding.length,
      workerd_processes: procs.workerd.map((p) => ({ pid: p.pid, role: p.role })),
      cold_start: {
        runs,
        median: { process_ready_ms: med((r) => r.process_ready_ms), first_example_ms: med((r) => r.first_example_ms), first_classify_ms: med((r) => r.first_classify_ms), total_ms: med((r) => r.total_ms) },
      },
      cpu: { image: cpuImage, embedding: cpuEmbedding, classes: cpuClasses, embedding_20x5: cpuLarge },
      rps: { image: rpsImage, embedding: rpsEmbedding },
      node: node.result,
      ratio_workerd_vs_node: {
        image: ratio(cpuImage.cpu_ms_per_request, node.result.image.cpu_ms_per_classify),
        image_worker_only: ratio(cpuImage.cpu_ms_per_request_worker_only, node.result.image.cpu_ms_per_classify),
        embedding: ratio(cpuEmbedding.cpu_ms_per_request, node.result.embedding.cpu_ms_per_classify),
        embedding_worker_only: ratio(cpuEmbedding.cpu_ms_per_request_worker_only, node.result.embedding.cpu_ms_per_classify),
      },
      prediction: { worker: workerLabel, node: node.label },
      free_plan_10ms: { image: fits(cpuImage.cpu_ms_per_request_worker_only), embedding: fits(cpuEmbedding.cpu_ms_per_request_worker_only) },
    };
  } finally {
    if (server) await stopDevServer(server);
  }
}

// ------------------------------------------------------------------------------------------- report

interface WorkerBenchResult {
  quick: boolean;
  machine: { cpus: number; cpu_model: string; node: string; loadavg_start: number[]; loadavg_end: number[] };
  versions: { wrangler: string; workerd: string };
  images: { dataset: string; examples: string[]; query: string };
  /** The commit the bundle was built from, and files under workers/, src/ or wrangler.toml that differed from it. */
  source: { commit: string; dirty: string[] };
  clock_ticks_per_s: number;
  bundle: BundleResult;
  configs: ConfigResult[];
  notes: string[];
  duration_s: number;
}

const fmt = (v: Ms | undefined, digits = 1): string => (v === null || v === undefined ? 'n/a' : v.toFixed(digits));
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

function formatReport(r: WorkerBenchResult): string {
  const lines: string[] = [];
  lines.push(`fewshot-edge worker bench: wrangler ${r.versions.wrangler}, workerd ${r.versions.workerd}, ${r.machine.cpus} cores (${r.machine.cpu_model}), Node ${r.machine.node}${r.quick ? ', QUICK run' : ''}`);
  lines.push(`images: caltech101 ${r.images.examples.length} examples (one per class), query ${r.images.query}`);
  lines.push('');
  lines.push('Bundle (wrangler deploy --dry-run; weights are static assets, not in the bundle; same script for every MODEL/FLIP)');
  for (const f of r.bundle.files) lines.push(`  ${f.name.padEnd(40)} ${kb(f.raw_bytes).padStart(12)} raw ${kb(f.gzip9_bytes).padStart(12)} gzip-9`);
  lines.push(`  ${'total'.padEnd(40)} ${kb(r.bundle.total_raw_bytes).padStart(12)} raw ${kb(r.bundle.total_gzip9_bytes).padStart(12)} gzip-9   target ${r.bundle.target}: ${r.bundle.pass ? 'PASS' : 'FAIL'}`);
  lines.push(`  wrangler prints: Total Upload ${fmt(r.bundle.wrangler_total_upload_kib, 2)} KiB / gzip ${fmt(r.bundle.wrangler_gzip_kib, 2)} KiB`);
  lines.push('');

  const heads = r.configs.map((c) => `${c.model.replace('mobilenet_', '')} flip=${c.flip}`);
  const width = 24;
  const row = (label: string, cells: string[]): string => `${label.padEnd(50)}${cells.map((c) => c.padStart(width)).join('')}`;
  const cell = (pick: (c: ConfigResult) => string): string[] => r.configs.map(pick);
  lines.push(row('', heads));
  lines.push(row(`cold start, median of ${r.configs[0]?.cold_start.runs.length ?? 0} (ms)`, heads.map(() => '')));
  lines.push(row('  spawn wrangler dev -> "Ready on"', cell((c) => fmt(c.cold_start.median.process_ready_ms, 0))));
  lines.push(row('  first POST /v1/examples (model load + embed)', cell((c) => fmt(c.cold_start.median.first_example_ms, 0))));
  lines.push(row('  first POST /v1/classify (image)', cell((c) => fmt(c.cold_start.median.first_classify_ms, 0))));
  lines.push(row('  total: spawn -> first classify 200', cell((c) => fmt(c.cold_start.median.total_ms, 0))));
  lines.push(row('CPU ms per warm classify, image (JPEG body)', heads.map(() => '')));
  lines.push(row('  workerd, all processes', cell((c) => fmt(c.cpu.image.cpu_ms_per_request))));
  lines.push(row('  of which the worker instance / dev proxy', cell((c) => `${fmt(c.cpu.image.cpu_ms_per_request_worker_only)} / ${fmt(c.cpu.image.cpu_ms_per_request_proxy)}`)));
  lines.push(row('  Node SDK in-thread (process.cpuUsage)', cell((c) => fmt(c.node.image.cpu_ms_per_classify))));
  lines.push(row('  ratio workerd all / Node (worker only / Node)', cell((c) => `${fmt(c.ratio_workerd_vs_node.image, 2)} (${fmt(c.ratio_workerd_vs_node.image_worker_only, 2)})`)));
  lines.push(row(`  worker instance <= ${FREE_PLAN_CPU_MS} ms (free plan)?`, cell((c) => (c.free_plan_10ms.image ? 'yes' : 'NO'))));
  lines.push(row('  wall p50 / p95 (ms), sequential', cell((c) => `${fmt(c.cpu.image.wall_ms_p50)} / ${fmt(c.cpu.image.wall_ms_p95)}`)));
  lines.push(row('CPU ms per warm classify, embedding (JSON)', heads.map(() => '')));
  lines.push(row('  workerd, all processes', cell((c) => fmt(c.cpu.embedding.cpu_ms_per_request, 2))));
  lines.push(row('  of which the worker instance / dev proxy', cell((c) => `${fmt(c.cpu.embedding.cpu_ms_per_request_worker_only, 2)} / ${fmt(c.cpu.embedding.cpu_ms_per_request_proxy, 2)}`)));
  lines.push(row('  Node SDK classifyEmbedding', cell((c) => fmt(c.node.embedding.cpu_ms_per_classify, 3))));
  lines.push(row(`  worker instance <= ${FREE_PLAN_CPU_MS} ms (free plan)?`, cell((c) => (c.free_plan_10ms.embedding ? 'yes' : 'NO'))));
  lines.push(row('  wall p50 / p95 (ms), sequential', cell((c) => `${fmt(c.cpu.embedding.wall_ms_p50, 2)} / ${fmt(c.cpu.embedding.wall_ms_p95, 2)}`)));
  lines.push(row(`  ${LARGE_USER.classes} classes x ${LARGE_USER.shots} examples: workerd all / worker instance`, cell((c) => `${fmt(c.cpu.embedding_20x5.cpu_ms_per_request, 2)} / ${fmt(c.cpu.embedding_20x5.cpu_ms_per_request_worker_only, 2)}`)));
  lines.push(row('CPU ms per GET /v1/classes (JWT + KV, no model)', heads.map(() => '')));
  lines.push(row('  workerd all / worker instance', cell((c) => `${fmt(c.cpu.classes.cpu_ms_per_request, 2)} / ${fmt(c.cpu.classes.cpu_ms_per_request_worker_only, 2)}`)));
  const conc = r.configs[0]?.rps.image.concurrency ?? 0;
  lines.push(row(`requests/s at concurrency ${conc}, loopback (errors)`, heads.map(() => '')));
  lines.push(row('  image', cell((c) => `${fmt(c.rps.image.rps)} (${c.rps.image.errors})`)));
  lines.push(row('  image: wall p50 / p95, workerd cores busy', cell((c) => `${fmt(c.rps.image.wall_ms_p50, 0)}/${fmt(c.rps.image.wall_ms_p95, 0)}, ${fmt(c.rps.image.workerd_cores_busy, 2)}`)));
  lines.push(row('  embedding', cell((c) => `${fmt(c.rps.embedding.rps)} (${c.rps.embedding.errors})`)));
  lines.push(row('  embedding: wall p50 / p95, workerd cores busy', cell((c) => `${fmt(c.rps.embedding.wall_ms_p50, 1)}/${fmt(c.rps.embedding.wall_ms_p95, 1)}, ${fmt(c.rps.embedding.workerd_cores_busy, 2)}`)));
  lines.push(row('prediction for the query: worker / Node', cell((c) => `${c.prediction.worker} / ${c.prediction.node}`)));
  if (r.notes.length > 0) {
    lines.push('');
    for (const note of r.notes) lines.push(`note: ${note}`);
  }
  lines.push('');
  lines.push(`load avg ${r.machine.loadavg_start.join(' ')} -> ${r.machine.loadavg_end.join(' ')}; ${r.duration_s} s`);
  return lines.join('\n');
}

// --------------------------------------------------------------------------------------------- main

function packageVersion(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function sourceState(): { commit: string; dirty: string[] } {
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const dirty = git(['status', '--porcelain', '--', 'workers', 'src', 'wrangler.toml']).split('\n').filter(Boolean).map((l) => l.slice(3));
  return { commit: git(['rev-parse', 'HEAD']) || 'unknown', dirty };
}

/** The query: the second JPEG (by name) of the first example's class, so it is a same-class, unseen image. */
async function loadQuery(example: BenchImage): Promise<BenchImage> {
  const folder = join(datasetsDir(), 'caltech101', 'images', example.label);
  const file = (await readdir(folder)).filter((f) => f.endsWith('.jpg')).sort()[1];
  if (!file) throw new Error(`${folder} has fewer than 2 JPEGs.`);
  const path = join(folder, file);
  return { label: example.label, path, bytes: new Uint8Array(await readFile(path)) };
}

async function main(): Promise<void> {
  const started = now();
  const loadStart = loadavg();
  const options = parseOptions(process.argv.slice(2));
  const plan = planFor(options.quick);
  if (process.platform !== 'linux') throw new Error('The worker bench reads CPU time from /proc: Linux only.');
  if (!existsSync(WRANGLER_JS)) throw new Error(`${WRANGLER_JS} is missing: run npm install.`);
  if (!existsSync(join(REPO_ROOT, 'models'))) throw new Error('No models/ folder: run `npm run fetch-model` (the worker serves the weights from it).');
  ensureModelDir();
  const examples = await loadCaltechImages(EXAMPLE_CLASSES);
  const query = await loadQuery(examples[0] as BenchImage);
  const notes: string[] = [];

  log('bundle: wrangler deploy --dry-run');
  const builtDir = await makeTempDir('fewshot-worker-build-');
  const configs: ConfigResult[] = [];
  let bundle: BundleResult;
  const source = sourceState();
  try {
    bundle = await buildWorker(builtDir);
    const selected = CONFIGS.filter((c) => options.only?.includes(configKey(c)) ?? true);
    for (const config of selected) configs.push(await benchConfig(config, builtDir, examples, query, plan));
  } finally {
    await removeTempDir(builtDir);
  }

  for (const c of configs) {
    if (c.prediction.worker !== c.prediction.node) notes.push(`${configName(c)}: worker predicted ${c.prediction.worker}, Node ${c.prediction.node}.`);
    for (const [kind, r] of Object.entries(c.rps)) if (r.errors > 0) notes.push(`${configName(c)} rps ${kind}: ${r.errors} errors, first: ${r.first_error}`);
    if (c.node.backend !== 'wasm') notes.push(`${configName(c)}: Node SDK ran on ${c.node.backend}, not wasm.`);
  }
  notes.push('CPU = utime+stime from /proc of the workerd processes (all threads), clock ticks of 10 ms: per-request figures are deltas over many requests.');
  notes.push('"worker instance" is the workerd running the script; "dev proxy" is the workerd wrangler dev puts in front of it (not in production).');
  notes.push('Cold start is local `wrangler dev` of the prebuilt bundle (wrangler start-up, two workerd starts, no esbuild), not a Cloudflare edge cold start.');
  notes.push('Node SDK classifyEmbedding is the head alone; a worker request also verifies the JWT, reads the examples from KV and rebuilds the head (see GET /v1/classes).');
  if (options.only) notes.push(`Only the configurations ${options.only.join(', ')} (--only).`);
  if (source.dirty.length > 0) notes.push(`Built from a working tree with uncommitted changes in: ${source.dirty.join(', ')}.`);

  const result: WorkerBenchResult = {
    quick: options.quick,
    machine: {
      cpus: availableParallelism(),
      cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
      node: process.version,
      loadavg_start: loadStart.map((v) => Math.round(v * 100) / 100),
      loadavg_end: loadavg().map((v) => Math.round(v * 100) / 100),
    },
    versions: { wrangler: packageVersion('wrangler'), workerd: packageVersion('workerd') },
    images: { dataset: 'caltech101', examples: examples.map((e) => e.label), query: `${query.label}/${query.path.split('/').pop()}` },
    source,
    clock_ticks_per_s: CLOCK_TICKS,
    bundle,
    configs,
    notes,
    duration_s: Math.round((now() - started) / 1000),
  };
  await emitReport(result, () => formatReport(result), options);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`worker bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
