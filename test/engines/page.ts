// One EnginePage over any engine's driver: evaluate, waitFor and their error messages are written once here,
// on top of "evaluate this expression", which Playwright, puppeteer and WebDriver all offer.
import type { EngineName, EnginePage } from '../engines.js';
import { withTimeout } from './process.js';

/** What each engine's driver provides. */
export interface PageDriver {
  /** Evaluates a JavaScript expression in the page and returns its value, awaited when it is a promise. */
  evaluate(expression: string): Promise<unknown>;
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  logs(): string[];
  close(): Promise<void>;
}

const NAVIGATION_MS = 60_000;
const CLOSE_MS = 15_000;

/**
 * The expression that runs `fn(arg)` in the page. The result crosses as a JSON string so every engine
 * returns the same thing (WebDriver, CDP and BiDi each serialise values their own way), and a page-side
 * throw comes back as text instead of three different protocol errors.
 */
function pageExpression(fn: (arg: never) => unknown, arg: unknown): string {
  return `(async () => {
  const __name = (f) => f; // tsx (esbuild keepNames) wraps named inner functions in __name(), which pages lack
  try {
    return JSON.stringify({ ok: true, value: await (${fn.toString()})(${JSON.stringify(arg) ?? 'undefined'}) });
  } catch (e) {
    const text = String(e);
    const stack = e instanceof Error && e.stack ? e.stack.split('\\n').slice(0, 6).join('\\n') : '';
    return JSON.stringify({ ok: false, error: stack.startsWith(text) ? stack : text + (stack ? '\\n' + stack : '') });
  }
})()`;
}

const tail = (lines: string[]) => (lines.length ? `\n  last page logs:\n    ${lines.slice(-8).join('\n    ')}` : '');

export function enginePage(engine: EngineName, driver: PageDriver): EnginePage {
  async function evaluate(fn: (arg: never) => unknown, arg?: unknown): Promise<unknown> {
    const raw = await driver.evaluate(pageExpression(fn, arg));
    if (typeof raw !== 'string') throw new Error(`${engine}: the page returned ${String(raw)} instead of a JSON result (did it navigate away?)`);
    const result = JSON.parse(raw) as { ok: true; value?: unknown } | { ok: false; error: string };
    if (!result.ok) throw new Error(`${engine} page: ${result.error}${tail(driver.logs())}`);
    return result.value;
  }
  return {
    engine,
    evaluate: evaluate as EnginePage['evaluate'],
    async waitFor(fn, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let lastError = '';
      for (;;) {
        const left = deadline - Date.now();
        try {
          if ((await withTimeout(evaluate(fn), Math.max(left, 1_000), 'one poll')) === true) return;
        } catch (err) {
          lastError = err instanceof Error ? err.message : String(err); // e.g. the page is still navigating
        }
        if (Date.now() >= deadline) {
          throw new Error(`${engine}: ${fn.toString()} was still not true after ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}${tail(driver.logs())}`);
        }
        await new Promise((done) => setTimeout(done, 100));
      }
    },
    goto: (url) => withTimeout(driver.goto(url), NAVIGATION_MS, `${engine}: loading ${url}`),
    reload: () => withTimeout(driver.reload(), NAVIGATION_MS, `${engine}: reloading the page`),
    logs: () => [...driver.logs()],
    close: () => withTimeout(driver.close(), CLOSE_MS, `${engine}: closing a page`),
  };
}
