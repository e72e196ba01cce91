/**
 * One small driver over the three browser engines the SDK is tested in, all from Debian (no browser is
 * downloaded): Chromium through playwright-core, Firefox ESR through puppeteer-core (WebDriver BiDi) and
 * WebKitGTK, Safari's engine, through WebKitWebDriver under Xvfb and selenium-webdriver. Tests write
 * `page.evaluate(fn, arg)` once and run it in each.
 */
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { launchChromium } from './engines/chromium.js';
import { launchFirefox } from './engines/firefox.js';
import { launchWebKit } from './engines/webkit.js';

export type EngineName = 'chromium' | 'firefox' | 'webkit';

const ALL_ENGINES: readonly EngineName[] = ['chromium', 'firefox', 'webkit'];

function enginesFromEnv(value: string | undefined): readonly EngineName[] {
  if (!value?.trim()) return ALL_ENGINES;
  const names = value.split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !ALL_ENGINES.includes(n as EngineName));
  if (unknown.length) throw new Error(`FEWSHOT_ENGINES=${value}: unknown engine ${unknown.join(', ')}; use a comma-separated subset of ${ALL_ENGINES.join(',')}.`);
  return ALL_ENGINES.filter((e) => names.includes(e));
}

/** The engines to test: all three, or the subset in FEWSHOT_ENGINES (e.g. `chromium,firefox`) for local runs. */
export const ENGINES: readonly EngineName[] = enginesFromEnv(process.env.FEWSHOT_ENGINES);

export interface EnginePage {
  readonly engine: EngineName;
  /** Runs fn(arg) in the page and returns its (awaited, JSON-serialisable) result. */
  evaluate<R>(fn: () => R | Promise<R>): Promise<R>;
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** Polls fn in the page until it returns true; rejects with a clear message after timeoutMs (default 30 s). */
  waitFor(fn: () => boolean, timeoutMs?: number): Promise<void>;
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  /**
   * Console messages and uncaught page errors seen so far, as text lines. WebKit: classic WebDriver has no
   * console API, so a hook installed by each command catches them: not what a page logs while it loads
   * (before the first command after a navigation), nor what its Web Workers log.
   */
  logs(): string[];
  close(): Promise<void>;
}

export interface EngineBrowser {
  readonly engine: EngineName;
  /** The browser's own version string, e.g. `156.0.8078.114`, `153.8.0esr` (Firefox), `2.50.6` (WebKitGTK). */
  readonly version: string;
  newPage(url: string): Promise<EnginePage>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Chromium only: `false` drops the WebGPU (SwiftShader) flags, as on most machines without a GPU. */
  webgpu?: boolean;
  /**
   * A profile folder that survives a restart (IndexedDB, caches): launch again with the same folder.
   * Chromium and Firefox only: WebKitGTK's MiniBrowser keeps automation sessions in an ephemeral store,
   * so webkit rejects this option (see {@link PERSISTENT_PROFILES}).
   */
  profileDir?: string;
}

/** Whether an engine can reopen a profile after a browser restart. */
export const PERSISTENT_PROFILES: Readonly<Record<EngineName, boolean>> = { chromium: true, firefox: true, webkit: false };

/** What to do when an engine does not start. */
const FIXES: Readonly<Record<EngineName, string>> = {
  chromium: '`apt-get install chromium` (Debian\'s), or set CHROMIUM_PATH',
  firefox: '`apt-get install firefox-esr`, or set FIREFOX_PATH',
  webkit: '`apt-get install webkit2gtk-driver xvfb`, or set MINIBROWSER_PATH',
};

/** Starts a headless browser of `engine`; bounded in time, and nothing is left running if it fails. */
export async function launchEngine(engine: EngineName, options: LaunchOptions = {}): Promise<EngineBrowser> {
  if (options.profileDir && !PERSISTENT_PROFILES[engine]) {
    throw new Error(`${engine} has no persistent profile: WebKitGTK's MiniBrowser runs WebDriver sessions with an ephemeral data store.`);
  }
  try {
    if (engine === 'chromium') return await launchChromium(EXECUTABLES.chromium, options);
    if (engine === 'firefox') return await launchFirefox(EXECUTABLES.firefox, options);
    return await launchWebKit(EXECUTABLES);
  } catch (err) {
    throw new Error(`Cannot start ${engine} (${FIXES[engine]}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

// ------------------------------------------------------------------------------------ executables

function onPath(name: string): string | undefined {
  return (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name)).find((p) => existsSync(p));
}

/** WebKitGTK's MiniBrowser lives in the multiarch folder of libwebkit2gtk-4.1-0. */
function findMiniBrowser(): string {
  const candidates = existsSync('/usr/lib') ? readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu')) : [];
  const found = candidates.map((d) => join('/usr/lib', d, 'webkit2gtk-4.1', 'MiniBrowser')).find((p) => existsSync(p));
  return found ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
}

/** Where each engine's programs are: Debian's packages, or the environment variables named in the fixes. */
export const EXECUTABLES = {
  chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  firefox: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr',
  webkitDriver: onPath('WebKitWebDriver') ?? '/usr/bin/WebKitWebDriver',
  miniBrowser: process.env.MINIBROWSER_PATH || findMiniBrowser(),
  xvfbRun: onPath('xvfb-run') ?? '/usr/bin/xvfb-run',
};

/** What is missing to run `engines`, each with its fix; empty when everything is installed. */
export function missingEngineTools(engines: readonly EngineName[] = ENGINES): string[] {
  const missing: string[] = [];
  if (engines.includes('chromium') && !existsSync(EXECUTABLES.chromium)) {
    missing.push(`No Chromium at ${EXECUTABLES.chromium}: \`apt-get install chromium\` (Debian's), or set CHROMIUM_PATH.`);
  }
  if (engines.includes('firefox') && !existsSync(EXECUTABLES.firefox)) {
    missing.push(`No Firefox at ${EXECUTABLES.firefox}: \`apt-get install firefox-esr\`, or set FIREFOX_PATH.`);
  }
  if (engines.includes('webkit')) {
    if (!existsSync(EXECUTABLES.webkitDriver)) missing.push('No WebKitWebDriver on PATH: `apt-get install webkit2gtk-driver`.');
    if (!existsSync(EXECUTABLES.miniBrowser)) missing.push(`No WebKitGTK MiniBrowser at ${EXECUTABLES.miniBrowser}: \`apt-get install libwebkit2gtk-4.1-0\`, or set MINIBROWSER_PATH.`);
    if (!existsSync(EXECUTABLES.xvfbRun)) missing.push('No xvfb-run on PATH (WebKitGTK needs a display): `apt-get install xvfb`.');
  }
  if (missing.length) missing.push('Or test fewer engines locally: FEWSHOT_ENGINES=chromium,firefox.');
  return missing;
}
