/**
 * The fewshot-edge worker: MobileNet on the tfjs WASM backend inside workerd, per-user examples in
 * Workers KV, bearer-JWT auth. Routes and their JSON are in `app.ts`; `npm start` runs it locally.
 */
import { app } from './app.js';

export default app;
