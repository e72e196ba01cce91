/** Messages between `./litert.ts` and its worker thread `./litert-worker.ts`. */
export interface LitertWorkerData {
  modelPath: string;
}

/** Images to run, each an NHWC float32 array of `shape` (batch 1). */
export interface LitertRequest {
  id: number;
  inputs: Float32Array[];
  shape: number[];
}

export type LitertReply =
  /** Sent once the model is compiled: which engine and build run it. */
  | { ready: string }
  /** One output per input, and the time each `run()` took inside the thread (ms). */
  | { id: number; outputs: Float32Array[]; runMs: number[] }
  | { id: number; error: string };
