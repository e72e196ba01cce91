// A plain production config: nothing in it is there for fewshot-edge (no rules for .wasm, no copy plugin).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export default {
  mode: 'production',
  context: here,
  entry: './main.js',
  // public/ is the site: index.html, models/ and images/ are already there.
  output: { path: join(here, 'public'), filename: 'main.js' },
};
