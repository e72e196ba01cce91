/**
 * Consumer fixtures: each is a template folder beside this file (an app as a user would write it), copied
 * into a fresh sub-folder of the installed package's appDir so that `fewshot-edge` resolves from
 * appDir/node_modules (the packed tarball), never from this repository. The page-side flow
 * (shared/flow.js) is copied beside each app's entry; the app's static folder gets the models (through the
 * installed CLI) and a few Caltech-101 images.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caltechDir, repoRoot } from '../paths.js';

export type Template = 'vite-app' | 'webpack-app' | 'plain-page';

/** Five visually distinct classes; one example each (the first file), the next files held out. */
export const CLASSES = ['accordion', 'anchor', 'bass', 'binocular', 'brontosaurus'] as const;
export const QUERIES_PER_CLASS = 3;
/**
 * The models each fixture serves, as `fetch-model --out` lays them out: the default one, and
 * mobilenet_v3_small_075 (a `.tflite` read by the SDK's own `tflite-*.js` chunk, which each bundler must emit).
 */
export const FIXTURE_MODELS = {
  mobilenet_v2_100: 'models/mobilenet_v2_100_224_feature/model.json',
  mobilenet_v3_small_075: 'models/mobilenet_v3_small_075_embedder/mobilenet_v3_small.tflite',
} as const;
export type FixtureModel = keyof typeof FIXTURE_MODELS;

/** An image and its class, `path` relative to the fixture's static root. */
export interface Picture {
  label: string;
  path: string;
}

export interface Fixture {
  /** The app's folder (its vite/webpack config, entry, package.json). */
  dir: string;
  /** What the app serves as static files: `models/` and `images/` are in it. */
  staticDir: string;
  examples: Picture[];
  queries: Picture[];
}

const here = dirname(fileURLToPath(import.meta.url));
/** The weights as shipped to developers (`npm run fetch-model -- --from ../shared/models`). */
const sharedModels = resolve(process.env.FEWSHOT_SHARED_MODELS || join(repoRoot, '..', 'shared', 'models'));

/** Where each template keeps its static files (`''`: the folder itself is served). */
const STATIC_SUBDIR: Record<Template, string> = { 'vite-app': 'public', 'webpack-app': 'public', 'plain-page': '' };

/** Copies `template` into a new folder of `appDir` and fills its static folder. */
export async function prepareFixture(template: Template, appDir: string): Promise<Fixture> {
  // A fresh folder per run and process: test files run in parallel over the same appDir.
  const dir = await mkdtemp(join(appDir, `${template}-`));
  await cp(join(here, template), dir, { recursive: true });
  await cp(join(here, 'shared', 'flow.js'), join(dir, 'flow.js'));
  const staticDir = join(dir, STATIC_SUBDIR[template]);
  installModel(appDir, join(staticDir, 'models'));
  const examples: Picture[] = [];
  const queries: Picture[] = [];
  for (const label of CLASSES) {
    const files = (await readdir(join(caltechDir, label))).filter((f) => f.endsWith('.jpg')).sort();
    if (files.length < 1 + QUERIES_PER_CLASS) throw new Error(`${caltechDir}/${label} has too few images.`);
    await mkdir(join(staticDir, 'images', label), { recursive: true });
    for (const [i, file] of files.slice(0, 1 + QUERIES_PER_CLASS).entries()) {
      await cp(join(caltechDir, label, file), join(staticDir, 'images', label, file));
      (i === 0 ? examples : queries).push({ label, path: `images/${label}/${file}` });
    }
  }
  return { dir, staticDir, examples, queries };
}

/** Removes a fixture's folder unless FEWSHOT_KEEP_FIXTURES=1 (to inspect a failing build). */
export async function removeFixture(fixture: Fixture | undefined): Promise<void> {
  if (fixture && process.env.FEWSHOT_KEEP_FIXTURES !== '1') await rm(fixture.dir, { recursive: true, force: true });
}

/** Puts the fixture models into `dest` with the installed package's CLI, as the README tells users to. */
function installModel(appDir: string, dest: string): void {
  const cli = join(appDir, 'node_modules', 'fewshot-edge', 'dist', 'node', 'cli.js');
  for (const model of Object.keys(FIXTURE_MODELS)) {
    execFileSync(process.execPath, [cli, 'fetch-model', '--from', sharedModels, '--out', dest, '--model', model], { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] });
  }
}
