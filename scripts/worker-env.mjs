// Shared by `npm start` and `npm run token`: the local secrets file and an offline wrangler environment.
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
const devVars = `${root}.dev.vars`;

/** Creates .dev.vars from the committed example when missing, and returns its variables. */
export function loadDevVars() {
  if (!existsSync(devVars)) copyFileSync(`${root}.dev.vars.example`, devVars);
  const vars = {};
  for (const line of readFileSync(devVars, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) vars[match[1]] = match[2].replace(/^"(.*)"$/, '$1');
  }
  return vars;
}

/** wrangler without network: no telemetry, no request.cf download (its built-in fallback is used). */
export const offlineEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };
