import type { Embedder } from '../src/embedder.js';

/**
 * A model in the calling thread that answers for a worker pool while its threads start. Once they are
 * ready it is retired: disposed as soon as no request is running on it, because from then on the calling
 * thread never runs inference again and its weights would only hold WASM heap.
 */
export class StandIn {
  private running = 0;
  private retired = false;

  constructor(private readonly embedder: Embedder) {}

  async run<T>(call: (embedder: Embedder) => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await call(this.embedder);
    } finally {
      if (--this.running === 0 && this.retired) this.embedder.dispose();
    }
  }

  retire(): void {
    if (this.retired) return;
    this.retired = true;
    if (this.running === 0) this.embedder.dispose();
  }
}
