/** Runs one bench script in a fresh Node process (under tsx) and reads the JSON line it prints. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './env.js';
import { now } from './stats.js';

export type ChildOutcome<T> =
  | { ok: true; value: T; wallMs: number }
  | { ok: false; error: string; timedOut: boolean; wallMs: number };

/**
 * `node [nodeArgs] --import tsx bench/<script> [args]` with the parent's environment (so FEWSHOT_MODEL_DIR
 * and FEWSHOT_DATASETS carry over). `node --import tsx` rather than the tsx CLI, which would add a second
 * process in between. After `timeoutMs` the child is killed and the outcome says so.
 */
export function runChild<T>(script: string, args: readonly string[], opts: { timeoutMs: number; nodeArgs?: readonly string[] }): Promise<ChildOutcome<T>> {
  const started = now();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', join(REPO_ROOT, 'bench', script), ...args], {
    cwd: REPO_ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  // Keep only the tail: a failing child's last lines say why; earlier ones are noise.
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = now() - started;
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) {
        try {
          resolve({ ok: true, value: JSON.parse(line) as T, wallMs });
          return;
        } catch {
          // fall through: report the unparsable output as the error
        }
      }
      const why = timedOut ? `killed after ${Math.round(opts.timeoutMs / 1000)} s` : `exit ${code ?? signal}`;
      const detail = stderr.trim().split('\n').slice(-3).join(' | ') || line || 'no output';
      resolve({ ok: false, error: `${script} ${args[0] ?? ''}: ${why}: ${detail}`, timedOut, wallMs });
    });
  });
}
