import { createReadStream, existsSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import type { Plugin } from 'vite';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
};

/**
 * Sends the file at `urlPath` under `folder` as it is (weight shards have no extension, so nothing may
 * transform them), with `headers` added. Returns its size, or `undefined` when there is no such file
 * inside the folder (nothing is sent then). Used by the demo's and the tests' Vite servers, the tests'
 * plain servers and the browser bench; `models/` and ../shared/datasets are never copied into the repo.
 */
export function sendFile(folder: string, urlPath: string, res: ServerResponse, headers: Record<string, string> = {}): number | undefined {
  const root = resolve(folder);
  const path = normalize(join(root, decodeURIComponent(urlPath.split('?')[0]!)));
  if (!path.startsWith(root) || !existsSync(path) || !statSync(path).isFile()) return undefined;
  const size = statSync(path).size;
  res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream', 'content-length': size, ...headers });
  createReadStream(path).pipe(res);
  return size;
}

/** A Vite plugin serving `folder` at `mount` through {@link sendFile}. */
export function serveFolder(mount: string, folder: string): Plugin {
  return {
    name: `fewshot-serve${mount}`,
    configureServer(server) {
      server.middlewares.use(mount, (req, res, next) => {
        if (sendFile(folder, req.url ?? '/', res) === undefined) next();
      });
    },
  };
}
