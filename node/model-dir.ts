/**
 * Where model folders live by default. An installed package must not keep them inside `node_modules` (the
 * next clean install deletes them), while a checkout of this repository keeps them in its own `models/`
 * (the repository's CI, the demo and `wrangler.toml`'s static assets read that folder).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import envPaths from 'env-paths';

/** The package root: the nearest folder holding `package.json` above this file (`node/` or `dist/node/`). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** True when `root` lies inside a `node_modules` folder: the package was installed, not checked out. */
export function isInstalledPackage(root: string): boolean {
  return root.split(/[\\/]/).includes('node_modules');
}

/**
 * The per-user cache folder for models: `~/.cache/fewshot-edge/models` on Linux (`$XDG_CACHE_HOME` when
 * set), `~/Library/Caches/fewshot-edge/models` on macOS, `%LOCALAPPDATA%\fewshot-edge\Cache\models` on
 * Windows.
 */
export function userModelCacheDir(): string {
  // No "-nodejs" suffix: the folder is named after the package, which no native app claims.
  return join(envPaths('fewshot-edge', { suffix: '' }).cache, 'models');
}

/** What {@link modelDirFor} decides on. */
export interface ModelDirInputs {
  /** The package root (see {@link packageRoot}). */
  packageRoot: string;
  /** `FEWSHOT_MODEL_DIR`, if set. */
  envDir?: string | undefined;
  /** The per-user cache folder (see {@link userModelCacheDir}). */
  userCacheDir: string;
}

/**
 * The default models folder, decided without touching the disk: `envDir` when set, else the per-user cache
 * for an installed package, else the checkout's `models/`.
 */
export function modelDirFor({ packageRoot: root, envDir, userCacheDir }: ModelDirInputs): string {
  if (envDir) return resolve(envDir);
  return isInstalledPackage(root) ? resolve(userCacheDir) : join(resolve(root), 'models');
}

/**
 * Folder that holds one sub-folder per model (laid out like `../shared/models`), used by `fetch-model` and
 * by everything that loads models in Node: `FEWSHOT_MODEL_DIR` when set; else, for an installed package,
 * the per-user cache folder ({@link userModelCacheDir}); else (a checkout) the repository's `models/`.
 */
export function defaultModelDir(): string {
  return modelDirFor({ packageRoot: packageRoot(), envDir: process.env.FEWSHOT_MODEL_DIR, userCacheDir: userModelCacheDir() });
}
