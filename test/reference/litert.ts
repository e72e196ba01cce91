/**
 * An independent reference engine for `.tflite` models: Google's @litertjs/core on the same file, in a
 * worker thread of its own (`./litert-worker.ts`), so the browser shim its loader needs never touches this
 * thread, where tfjs-backend-wasm runs. Used by test/tflite-reference.test.ts and the bench's v3 peer.
 */
import { Worker } from 'node:worker_threads';
import type { LitertReply, LitertRequest, LitertWorkerData } from './litert-protocol.js';

export interface LitertReference {
  /** Engine, version and wasm build that run the model. */
  readonly engine: string;
  /**
   * Runs each NHWC float32 image (already in the model's input range) through the model; the arrays are
   * transferred to the thread (unusable afterwards). `runMs` is each `run()` inside the thread.
   */
  run(inputs: Float32Array[], shape: readonly number[]): Promise<{ outputs: Float32Array[]; runMs: number[] }>;
  /** Ends the thread. */
  close(): Promise<void>;
}

/** A bootstrap that registers tsx in the new thread (`--import tsx` does not reach worker threads in Node 20), then loads the .ts entry. */
function workerEntry(): URL {
  const bootstrap = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};
register();
await import(${JSON.stringify(new URL('./litert-worker.ts', import.meta.url).href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

/** Starts the thread and resolves once the model is compiled in it. */
export async function startLitert(modelPath: string): Promise<LitertReference> {
  // LiteRT logs its set-up (accelerators, a failed WebGPU probe) to stderr: kept for errors, not echoed.
  const thread = new Worker(workerEntry(), { workerData: { modelPath } satisfies LitertWorkerData, stderr: true });
  let stderrTail = '';
  thread.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderrTail = (stderrTail + chunk).slice(-2000)));
  const pending = new Map<number, { resolve: (r: { outputs: Float32Array[]; runMs: number[] }) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  const failAll = (error: Error): void => {
    failure ??= error;
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  const engine = await new Promise<string>((resolve, reject) => {
    thread.on('message', (reply: LitertReply) => {
      if ('ready' in reply) return resolve(reply.ready);
      const waiting = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) thread.unref();
      if ('error' in reply) waiting?.reject(new Error(`LiteRT: ${reply.error}`));
      else waiting?.resolve({ outputs: reply.outputs, runMs: reply.runMs });
    });
    thread.on('error', (error) => {
      reject(error);
      failAll(error);
    });
    thread.on('exit', (code) => {
      const error = new Error(`The LiteRT thread exited (code ${code}). Its last output: ${stderrTail.trim().slice(-600)}`);
      reject(error);
      failAll(error);
    });
  });
  // Referenced only while it owes an answer, so an idle reference never keeps a process alive.
  thread.unref();
  return {
    engine,
    run(inputs, shape) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      thread.ref();
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const request: LitertRequest = { id, inputs, shape: [...shape] };
        thread.postMessage(request, inputs.map((input) => input.buffer as ArrayBuffer));
      });
    },
    async close() {
      await thread.terminate();
    },
  };
}
