import { createReadStream, existsSync, statSync } from 'node:fs';
import { join, normalize, resolve } from 'node:path';
import type { Plugin } from 'vite';

/**
 * Serves a folder's files as they are at `mount` (Vite would try to transform extension-less weight shards).
 * Used for `models/` (filled by fetch-model) and ../shared/datasets, which are never copied into the repo,
 * by the demo page and the browser tests.
 */
export function serveFolder(mount: string, folder: string): Plugin {
  const dir = resolve(folder);
  return {
    name: `fewshot-serve${mount}`,
    configureServer(server) {
      server.middlewares.use(mount, (req, res, next) => {
        const path = normalize(join(dir, decodeURIComponent((req.url ?? '/').split('?')[0]!)));
        if (!path.startsWith(dir) || !existsSync(path) || !statSync(path).isFile()) return next();
        const type = path.endsWith('.json') ? 'application/json' : path.endsWith('.png') ? 'image/png' : path.endsWith('.jpg') ? 'image/jpeg' : 'application/octet-stream';
        res.setHeader('content-type', type);
        createReadStream(path).pipe(res);
      });
    },
  };
}

