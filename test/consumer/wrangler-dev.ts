/**
 * wrangler on a consumer's project, as a team runs it: the repository's wrangler (4.86) with the project
 * as cwd, offline, `wrangler dev` on free ports, and wrangler's global state (logs, dev registry, metrics
 * choice) kept inside the project instead of ~/.config.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../engines/process.js';
import { repoRoot } from '../paths.js';

const WRANGLER = join(repoRoot, 'node_modules', '.bin', 'wrangler');

/** As scripts/worker-env.mjs: no telemetry, no request.cf download; and wrangler's global folder inside the project. */
const wranglerEnv = (project: string) => ({
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  XDG_CONFIG_HOME: join(project, '.config'),
});

/** Runs a one-shot wrangler command in `project` (for example `deploy --dry-run`) and returns what it printed. */
export async function wrangler(project: string, args: readonly string[]): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(WRANGLER, args, { cwd: project, env: wranglerEnv(project), timeout: 120_000 });
  return `${stdout}${stderr}`;
}

export interface WranglerDev {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** Everything wrangler and workerd printed so far. */
  output(): string;
  /** Stops wrangler and its workerd processes (the whole process group it leads). */
  stop(): Promise<void>;
}

const START_MS = 120_000;
const STOP_MS = 15_000;

/** Starts `wrangler dev [args]` in `project` and resolves once it answers HTTP. */
export async function wranglerDev(project: string, args: readonly string[] = []): Promise<WranglerDev> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const child = spawn(WRANGLER, ['dev', ...args, '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort)], {
    cwd: project,
    detached: true, // its own process group, so stop() reaches workerd too
    stdio: ['ignore', 'pipe', 'pipe'],
    env: wranglerEnv(project),
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      output += `\n${String(err)}`; // could not start (no wrangler at WRANGLER)
      resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const dev: WranglerDev = { url, output: () => output, stop: () => stopGroup(child, exited) };
  try {
    await waitForHttp(url, child, () => output);
  } catch (err) {
    await dev.stop();
    throw err;
  }
  return dev;
}

/** Any HTTP answer means workerd is serving; the model loads on the first request that needs it. */
async function waitForHttp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      throw new Error(`wrangler dev exited (${child.exitCode ?? child.signalCode ?? 'not started'}):\n${output()}`);
    }
    try {
      await (await fetch(`${url}/`, { signal: AbortSignal.timeout(5_000) })).arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 300)); // not listening yet
    }
  }
  throw new Error(`wrangler dev did not answer on ${url} within ${START_MS / 1000} s:\n${output()}`);
}

async function stopGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is already gone
    }
  };
  if (child.pid === undefined) return; // never started
  if (child.exitCode === null && child.signalCode === null) signalGroup('SIGTERM');
  const timer = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
  if ((await Promise.race([exited, timer(STOP_MS)])) === 'timeout') {
    signalGroup('SIGKILL');
    await Promise.race([exited, timer(STOP_MS)]);
  }
  signalGroup('SIGKILL'); // workerd children that outlived wrangler, if any
}
