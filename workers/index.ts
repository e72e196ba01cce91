/**
 * The fewshot-edge worker (`fewshot-edge/worker`): MobileNet on the tfjs WASM backend inside workerd,
 * per-user examples in Workers KV, bearer-JWT auth. Routes and their JSON are in `app.ts`; `npm start`
 * runs it from this repository, and docs/WORKER.md deploys it from the package.
 *
 * Two ways to use it from an app's own wrangler project (no `nodejs_compat`; wrangler bundles it from
 * node_modules, `.wasm` included):
 *
 * - As the whole worker: `src/index.ts` is `export { default } from 'fewshot-edge/worker';`.
 * - Under your own Hono app: `parent.route('/fewshot', app)` serves `/fewshot/healthz`, `/fewshot/v1/...`
 *   with the same auth and JSON errors (unknown paths under the prefix included); your `notFound` and
 *   `onError` still answer everywhere else. Declare the parent with `Hono<{ Bindings: Env }>`.
 *
 * Either way the worker's environment needs the bindings {@link Env} names: `EXAMPLES` (KV), `MODELS`
 * (static assets holding the model folders, `run_worker_first = true`), the secret `JWT_SECRET`, and
 * optionally the vars `MODEL`, `FLIP`, `MAX_EXAMPLES_PER_USER`, `MAX_BODY_BYTES`.
 */
import { app } from './app.js';

export { app };
export type { Env } from './env.js';
export default app;
