/**
 * The package as users get it: `npm pack` of this repository's build, installed with `npm install <tarball>`
 * into a fresh folder outside the repository. Done once per build and shared by every consumer fixture (test
 * files run in parallel processes, so a lock folder serialises the first install).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';

export interface InstalledPackage {
  /** A folder outside the repository whose `node_modules/fewshot-edge` is the installed tarball. Fixtures live in sub-folders. */
  appDir: string;
  /** The packed `fewshot-edge-<version>.tgz`. */
  tarball: string;
}

const WAIT_MS = 10 * 60_000;

/** Installs the packed package (once per build) and returns where. */
export async function installedPackage(): Promise<InstalledPackage> {
  const root = join(tmpdir(), `fewshot-consumer-${buildKey()}`);
  const ready = join(root, 'ready.json');
  const lock = `${root}.lock`;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (existsSync(ready)) return JSON.parse(readFileSync(ready, 'utf8')) as InstalledPackage;
    try {
      mkdirSync(lock);
      break; // ours to build
    } catch {
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > WAIT_MS) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Gave up waiting for another process to install the packed package (${lock}).`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    rmSync(root, { recursive: true, force: true });
    const appDir = join(root, 'app');
    mkdirSync(appDir, { recursive: true });
    // dist/ is already built (`npm ci` ran `prepare`): pack it as it is.
    const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], repoRoot)) as { filename: string }[];
    const tarball = join(root, packed[0]!.filename);
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'fewshot-consumer', private: true, type: 'module' }, null, 2));
    run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], appDir);
    const installed: InstalledPackage = { appDir, tarball };
    writeFileSync(ready, JSON.stringify(installed));
    return installed;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, npm_config_loglevel: 'error' } });
}

/** Changes whenever the packed contents could: package.json and every file under dist/ (size and time). */
function buildKey(): string {
  const hash = createHash('sha256').update(readFileSync(join(repoRoot, 'package.json')));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const { size, mtimeMs } = statSync(path);
        hash.update(`${path} ${size} ${mtimeMs}\n`);
      }
    }
  };
  walk(join(repoRoot, 'dist'));
  return hash.digest('hex').slice(0, 16);
}
