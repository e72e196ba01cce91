import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Real images for tests: `FEWSHOT_DATASETS`, else `../shared/datasets` beside the repository. */
export const datasetsDir = resolve(process.env.FEWSHOT_DATASETS || join(repoRoot, '..', 'shared', 'datasets'));
export const caltechDir = join(datasetsDir, 'caltech101', 'images');
export const omniglotDir = join(datasetsDir, 'omniglot', 'images');

/** The built CLI, as `npx fewshot` runs it. */
export const cliPath = join(repoRoot, 'dist', 'node', 'cli.js');

export function requireFile(path: string, hint: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${hint}`);
  return path;
}
