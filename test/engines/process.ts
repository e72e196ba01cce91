// Time limits and child-process clean-up shared by the engine drivers.
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** Rejects with `what` in the message when `promise` takes longer than `ms`; the timer never keeps Node alive. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP port free right now on 127.0.0.1 (the OS picks it; a driver started next binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: nothing left in the group
  }
}

/**
 * Ends every process of a group started with `detached: true` (the driver, its browser and their helpers):
 * SIGTERM first, so xvfb-run removes its lock and auth files, then SIGKILL whatever is left after `graceMs`.
 */
export async function killGroup(child: ChildProcess, graceMs = 3_000): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (!signalGroup(pgid, 0)) return;
  }
  signalGroup(pgid, 'SIGKILL');
}

/** Kills the child's process group if Node exits first (a crashed or interrupted test run); returns the undo. */
export function killOnExit(child: ChildProcess): () => void {
  const kill = () => child.pid !== undefined && signalGroup(child.pid, 'SIGKILL');
  process.once('exit', kill);
  return () => process.off('exit', kill);
}
