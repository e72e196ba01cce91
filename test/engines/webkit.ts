// WebKitGTK (Safari's engine): WebKitWebDriver under Xvfb drives MiniBrowser; selenium-webdriver speaks to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Builder, Capabilities, type WebDriver } from 'selenium-webdriver';
import type { EngineBrowser, EnginePage } from '../engines.js';
import { enginePage } from './page.js';
import { freePort, killGroup, killOnExit, withTimeout } from './process.js';

const READY_MS = 20_000;
const SESSION_MS = 60_000;
const QUIT_MS = 15_000;
const SCRIPT_MS = 170_000;

interface Paths {
  webkitDriver: string;
  miniBrowser: string;
  xvfbRun: string;
}

/** The driver exited before it was ready, e.g. another process took the free port first: worth a retry. */
class DriverExited extends Error {}

/** Starts `xvfb-run -a WebKitWebDriver` in its own process group and waits until it answers /status. */
async function startDriver(paths: Paths, output: string[]): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(paths.xvfbRun, ['-a', '-s', '-screen 0 1280x1024x24 -nolisten tcp', paths.webkitDriver, `--port=${port}`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      output.push(...chunk.split('\n').filter((l) => l.trim()));
      output.splice(0, output.length - 20); // only for error messages: the last lines say what went wrong
    });
  }
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`${paths.xvfbRun}: ${err.message}`)));
    child.once('exit', (code) => reject(new DriverExited(`WebKitWebDriver exited (code ${code}) before it was ready: ${output.slice(-5).join(' | ')}`)));
  });
  exited.catch(() => undefined);
  const url = `http://127.0.0.1:${port}`;
  const ready = (async () => {
    for (;;) {
      const up = await fetch(`${url}/status`).then((r) => r.ok, () => false);
      if (up) return;
      await new Promise((done) => setTimeout(done, 100));
    }
  })();
  try {
    await withTimeout(Promise.race([ready, exited]), READY_MS, `WebKitWebDriver answering on port ${port}`);
  } catch (err) {
    await stopDriver(child);
    throw err;
  }
  return { child, url };
}

/**
 * Classic WebDriver cannot read the console (WebKitWebDriver has no BiDi, and MiniBrowser ignores
 * --enable-write-console-messages-to-stdout in automation mode), so each command first installs this hook:
 * console.* and uncaught errors go to an array the command then drains. It misses what a page logs before
 * its first command after a navigation (i.e. while loading) and what Web Workers log.
 */
const CONSOLE_HOOK = `if (!window.__engineLogs) {
  const logs = (window.__engineLogs = []);
  const text = (a) => (typeof a === 'object' && a !== null && !(a instanceof Error) ? (() => { try { return JSON.stringify(a); } catch { return String(a); } })() : String(a));
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    const original = console[level].bind(console);
    console[level] = (...args) => { logs.push(level + ': ' + args.map(text).join(' ')); original(...args); };
  }
  addEventListener('error', (e) => logs.push('pageerror: ' + e.message));
  addEventListener('unhandledrejection', (e) => logs.push('pageerror: unhandled rejection: ' + text(e.reason)));
}`;

/** The pids of a process's children (Linux /proc). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Stops WebKitWebDriver first, so xvfb-run goes on to exit normally and its EXIT trap stops Xvfb and
 * removes its /tmp/xvfb-run.* folder (a signal to xvfb-run itself skips that); then ends whatever is left.
 */
async function stopDriver(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((done) => (child.exitCode !== null || child.signalCode !== null ? done() : child.once('exit', () => done())));
  for (const pid of child.pid === undefined ? [] : childrenOf(child.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'WebKitWebDriver') process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await withTimeout(exited, 5_000, 'xvfb-run exiting').catch(() => undefined);
  await killGroup(child);
}

export async function launchWebKit(paths: Paths): Promise<EngineBrowser> {
  const output: string[] = [];
  let driverProcess: { child: ChildProcess; url: string } | undefined;
  for (let attempt = 1; !driverProcess; attempt++) {
    try {
      driverProcess = await startDriver(paths, output);
    } catch (err) {
      if (!(err instanceof DriverExited) || attempt === 3) throw err;
    }
  }
  const { child, url } = driverProcess;
  const undoExitKill = killOnExit(child);
  const stop = async () => {
    await stopDriver(child);
    undoExitKill();
  };

  let driver: WebDriver;
  let version: string;
  let firstWindow: string;
  try {
    const capabilities = new Capabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': {
        binary: paths.miniBrowser,
        args: ['--automation'],
      },
    });
    driver = await withTimeout(new Builder().usingServer(url).withCapabilities(capabilities).build(), SESSION_MS, 'webkit: starting a MiniBrowser session');
    // Under vitest's 180 s test timeout: the session runs one command at a time, so a page script that
    // hangs must end with its own test instead of blocking the next tests' commands.
    await driver.manage().setTimeouts({ script: SCRIPT_MS, pageLoad: 60_000 });
    version = String((await driver.getCapabilities()).get('browserVersion') ?? 'unknown');
    firstWindow = await driver.getWindowHandle();
  } catch (err) {
    await stop();
    throw err instanceof Error && output.length ? new Error(`${err.message}\n  driver output: ${output.slice(-5).join(' | ')}`, { cause: err }) : err;
  }

  // WebDriver drives one window at a time: every command switches to its page's window first, one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  let current = firstWindow;
  let spare: string | undefined = firstWindow; // until a page takes it
  const serial = <T>(run: () => Promise<T>): Promise<T> => {
    const next = queue.then(run);
    queue = next.catch(() => undefined);
    return next;
  };
  const inWindow = <T>(handle: string, run: () => Promise<T>): Promise<T> =>
    serial(async () => {
      if (current !== handle) await driver.switchTo().window(handle);
      current = handle;
      return run();
    });

  function wrapPage(handle: string): EnginePage {
    const lines: string[] = [];
    /** Runs `expression` with the console hook in place, and moves what the hook caught into `lines`. */
    const run = async (expression: string): Promise<unknown> => {
      const { value, logs } = (await driver.executeScript(`${CONSOLE_HOOK}
return (async () => ({ value: await (${expression}), logs: window.__engineLogs.splice(0) }))();`)) as { value: unknown; logs: string[] };
      lines.push(...logs);
      return value;
    };
    return enginePage('webkit', {
      evaluate: (expression) => inWindow(handle, () => run(expression)),
      goto: (url) =>
        inWindow(handle, async () => {
          await driver.get(url);
          await run('0');
        }),
      reload: () =>
        inWindow(handle, async () => {
          await driver.navigate().refresh();
          await run('0');
        }),
      logs: () => lines,
      // Closing the last window would end the session, so the last page goes blank and is reused instead.
      close: () =>
        inWindow(handle, async () => {
          if ((await driver.getAllWindowHandles()).length > 1) {
            await driver.close();
            current = ''; // no window is selected until the next command switches to one
          } else {
            await driver.get('about:blank');
            spare = handle;
          }
        }),
    });
  }

  return {
    engine: 'webkit',
    version,
    async newPage(url) {
      const handle = await serial(async () => {
        if (spare) {
          const reused = spare;
          spare = undefined;
          return reused;
        }
        // New Window needs a current window: the last one used may have been closed.
        await driver.switchTo().window((await driver.getAllWindowHandles())[0]!);
        await driver.switchTo().newWindow('tab');
        current = await driver.getWindowHandle();
        return current;
      });
      const page = wrapPage(handle);
      await page.goto(url);
      return page;
    },
    async close() {
      try {
        await withTimeout(driver.quit(), QUIT_MS, 'webkit: ending the WebDriver session');
      } finally {
        await stop();
      }
    },
  };
}
