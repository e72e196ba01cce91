#!/usr/bin/env node
// `npm start`: the worker on http://127.0.0.1:8787 with local KV (.wrangler/state), offline.
// Extra arguments go to `wrangler dev` (for example `npm start -- --port 8788`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadDevVars, offlineEnv, root } from './worker-env.mjs';

loadDevVars();
if (!existsSync(`${root}models`)) {
  console.error('No models/ folder: run `npm run fetch-model` first (the worker serves the weights from it).');
  process.exit(1);
}
const wrangler = spawn(process.execPath, [`${root}node_modules/wrangler/bin/wrangler.js`, 'dev', ...process.argv.slice(2)], {
  cwd: root,
  env: offlineEnv,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => wrangler.kill(signal));
wrangler.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
