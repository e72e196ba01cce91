/**
 * A team's own wrangler project that deploys the edge worker from the installed package, laid out as
 * docs/WORKER.md tells (the test checks that the doc shows these exact files). It lives in a sub-folder of
 * the consumer app, so `fewshot-edge` and `hono` resolve from the app's node_modules.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, requireFile } from '../paths.js';

/** The whole worker: the package's default export. */
export const INDEX_TS = "export { default } from 'fewshot-edge/worker';\n";

/** The worker mounted under the team's own Hono app (docs: the same file, as src/index.ts). */
export const MOUNTED_TS = `import { Hono } from 'hono';
import { app as fewshot, type Env } from 'fewshot-edge/worker';

const app = new Hono<{ Bindings: Env }>(); // add your own bindings to Env's: Env & { ... }
app.get('/', (c) => c.text('my app'));
app.route('/fewshot', fewshot); // /fewshot/healthz, /fewshot/v1/examples, /fewshot/v1/classify, ...
// Yours answer outside /fewshot; under it the API answers its own JSON errors.
app.notFound((c) => c.text('not found', 404));
app.onError((err, c) => {
  console.error(err);
  return c.text('something went wrong', 500);
});

export default app;
`;

export const WRANGLER_TOML = `name = "fewshot-edge-app"
main = "src/index.ts"
compatibility_date = "2026-04-20"
# No nodejs_compat: with it, the tfjs WASM glue would take its Node code path.

[vars]
MODEL = "mobilenet_v2_100"       # or "mobilenet_v3_small_075" / "mobilenet_v1_025": about 3x less CPU per image
FLIP = "true"                    # "false": half the CPU per image, about 1 point less accuracy
MAX_EXAMPLES_PER_USER = "500"
MAX_BODY_BYTES = "8388608"

# Per-user examples: put the id \`npx wrangler kv namespace create EXAMPLES\` prints (wrangler dev keeps KV locally).
[[kv_namespaces]]
binding = "EXAMPLES"
id = "00000000000000000000000000000000"

# The model folders (\`npx fewshot fetch-model --out models\`), read through MODELS and never served publicly.
[assets]
directory = "./models"
binding = "MODELS"
run_worker_first = true

# CPU per request, paid plans. On the free plan remove this block and send embeddings (hybrid mode).
[limits]
cpu_ms = 2000
`;

/**
 * For the type check only: the app's own TypeScript setup. A team lists "@cloudflare/workers-types" in
 * `types`; here the repository's copy stands in through typeRoots (the app folder has only the package).
 */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'ES2022',
    moduleResolution: 'Bundler',
    lib: ['ES2022'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    typeRoots: [join(repoRoot, 'node_modules', '@cloudflare')],
    types: ['workers-types'],
  },
  include: ['src'],
};

/** The official weights laid out per model; `fetch-model --from` copies them instead of downloading. */
const SHARED_MODELS = join(repoRoot, '..', 'shared', 'models');

export interface EdgeProject {
  dir: string;
  /** JWT_SECRET in the project's .dev.vars. */
  secret: string;
  remove(): void;
}

const run = promisify(execFile);

/** Writes the project into a fresh sub-folder of `appDir` and puts the models in with the package's CLI. */
export async function createEdgeProject(appDir: string): Promise<EdgeProject> {
  const dir = mkdtempSync(join(appDir, 'edge-worker-'));
  const project: EdgeProject = { dir, secret: randomBytes(32).toString('hex'), remove: () => rmSync(dir, { recursive: true, force: true }) };
  try {
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'index.ts'), INDEX_TS);
    writeFileSync(join(dir, 'src', 'mounted.ts'), MOUNTED_TS);
    writeFileSync(join(dir, 'wrangler.toml'), WRANGLER_TOML);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
    writeFileSync(join(dir, '.dev.vars'), `JWT_SECRET=${project.secret}\n`); // what \`wrangler secret put\` is in production
    // `npx fewshot fetch-model --out models`, with --from so that it copies instead of downloading.
    const cli = join(appDir, 'node_modules', 'fewshot-edge', 'dist', 'node', 'cli.js');
    const from = requireFile(SHARED_MODELS, 'the official weights laid out per model (as ../shared/models).');
    await run(process.execPath, [cli, 'fetch-model', '--from', from, '--out', 'models'], { cwd: dir, timeout: 120_000 });
    return project;
  } catch (err) {
    project.remove();
    throw err;
  }
}

/** `tsc` over the project's src/ with the repository's TypeScript; resolves with its diagnostics ('' when clean). */
export async function typeCheck(project: EdgeProject): Promise<string> {
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', join(project.dir, 'tsconfig.json')], { cwd: project.dir, timeout: 120_000 });
    return '';
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    if (stdout === undefined) throw err;
    return `${stdout}${stderr ?? ''}`;
  }
}
