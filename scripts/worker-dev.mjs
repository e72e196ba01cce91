#!/usr/bin/env node
// `npm start`: the worker on http://127.0.0.1:8787 with local KV (.wrangler/state), offline, and the browser
// SDK's demo page (demo/, Vite dev server) on http://127.0.0.1:5173. Ctrl-C or SIGTERM stops both.
// Extra arguments go to `wrangler dev` (for example `npm start -- --port 8788`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadDevVars, offlineEnv, root } from './worker-env.mjs';

loadDevVars();
if (!existsSync(`${root}models`)) {
  console.error('No models/ folder: run `npm run fetch-model` first (the worker and the demo serve the weights from it).');
  process.exit(1);
}
const wrangler = spawn(process.execPath, [`${root}node_modules/wrangler/bin/wrangler.js`, 'dev', ...process.argv.slice(2)], {
  cwd: root,
  env: offlineEnv,
  stdio: 'inherit',
});
const demo = startDemo();

/** The demo's Vite dev server (demo/vite.config.ts: 127.0.0.1:5173, strictPort). The worker runs on without it. */
async function startDemo() {
  try {
    const { createServer } = await import('vite');
    const server = await createServer({ configFile: `${root}demo/vite.config.ts` });
    await server.listen();
    console.log(`\n  demo page:   ${server.resolvedUrls?.local[0] ?? 'http://127.0.0.1:5173/'}   (browser SDK; ?backend=wasm|webgpu|cpu&user=NAME)`);
    console.log('  edge worker: http://127.0.0.1:8787   (wrangler dev; `npm run token -- USER` for a token)\n');
    return server;
  } catch (err) {
    console.error(`The demo page did not start (${err instanceof Error ? err.message : err}); the worker still runs.`);
    return undefined;
  }
}

let stopping = false;
async function stop(signal, code) {
  if (stopping) return;
  stopping = true;
  if (wrangler.exitCode === null && wrangler.signalCode === null) wrangler.kill(signal);
  await (await demo)?.close();
  if (wrangler.exitCode === null && wrangler.signalCode === null) await new Promise((done) => wrangler.once('exit', done));
  process.exit(code ?? wrangler.exitCode ?? (wrangler.signalCode ? 1 : 0));
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void stop(signal));
wrangler.on('exit', (code, signal) => void stop('SIGTERM', code ?? (signal ? 1 : 0)));
