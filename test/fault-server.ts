/**
 * A real HTTP server on 127.0.0.1 serving a models folder as a mirror would, except for chosen paths that
 * fail the ways networks do: an error status, a closed socket, a body cut short (with or without a length
 * that admits it), or no answer at all.
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { sendFile } from '../scripts/serve-folder.js';

export type Fault =
  /** HTTP 500. */
  | 'error'
  /** The socket is destroyed before any answer. */
  | 'close'
  /** Content-Length is the whole file, but the socket closes after half of it. */
  | 'truncate'
  /** Content-Length and body are the first half of the file: a short file with no transport error. */
  | 'short'
  /** Headers and half the body, then silence. */
  | 'stall';

export interface FaultServer {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  close(): Promise<void>;
}

function half(res: ServerResponse, bytes: Buffer, declared: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': declared });
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
}

/**
 * Serves `folder` once per scenario: `/<scenario>/<file>` is `folder/<file>`, failing as
 * `scenarios[scenario][file]` says (e.g. `{ error: { 'mobilenet_v1_025_224_graph/model.json': 'error' } }`).
 * Paths under no scenario answer 404.
 */
export async function startFaultServer(folder: string, scenarios: Readonly<Record<string, Readonly<Record<string, Fault>>>>): Promise<FaultServer> {
  const server = createServer((req, res) => {
    const [, scenario = '', ...rest] = decodeURIComponent((req.url ?? '/').split('?')[0] as string).split('/');
    const file = rest.join('/');
    const faults = Object.hasOwn(scenarios, scenario) ? scenarios[scenario] : undefined;
    if (!faults) return void res.writeHead(404).end('not found');
    const bytes = () => readFileSync(join(folder, file));
    switch (faults[file]) {
      case 'error':
        return void res.writeHead(500).end('boom');
      case 'close':
        return void req.socket.destroy();
      case 'truncate': {
        const all = bytes();
        half(res, all, all.length);
        return void setTimeout(() => res.socket?.destroy(), 20);
      }
      case 'short': {
        const all = bytes();
        half(res, all, Math.floor(all.length / 2));
        return void res.end();
      }
      case 'stall':
        return half(res, bytes(), bytes().length);
      default:
        if (sendFile(folder, file, res) === undefined) res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('The fault server has no port.');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** A local port nothing listens on (bound, then released), for a real "connection refused". */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
