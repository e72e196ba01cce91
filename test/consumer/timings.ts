/** Wall-clock timings of a consumer suite's steps, printed once at the end (these machines are noisy: a log, not an assertion). */
export class Timings {
  readonly lines: string[] = [];

  /** Runs `work` and records how long it took, also when it fails. */
  async timed<T>(what: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await work();
    } finally {
      this.lines.push(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  }

  print(suite: string): void {
    console.log(`[${suite}] timings\n  ${this.lines.join('\n  ')}`);
  }
}
