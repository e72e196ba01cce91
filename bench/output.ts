import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * Ends a bench run: writes the JSON to `out` when given (progress goes to stderr), then prints either the
 * JSON (`--json`) or the table, and resolves once stdout has taken it all.
 */
export async function emitReport(result: unknown, table: () => string, options: { json?: boolean; out?: string | undefined }): Promise<void> {
  const json = `${JSON.stringify(result, null, 2)}\n`;
  if (options.out) {
    const out = resolve(options.out);
    await writeFile(out, json);
    process.stderr.write(`[bench] wrote ${out} (${Buffer.byteLength(json)} bytes)\n`);
  }
  await new Promise<void>((done) => process.stdout.write(options.json ? json : `${table()}\n`, () => done()));
}
