/**
 * npx tsx bench/sdk-size.ts [--json] [--build] [--analyze] [--dir dist/sdk]
 *
 * What a page downloads from the browser build (`npm run build:sdk` -> dist/sdk/, weights not included), per
 * path through the SDK: the entry and its static imports, plus the chunks of the backend and the model
 * format it uses (sdk/backend.ts and src/embedder.ts import them dynamically), read from Vite's manifest.
 * Sizes raw, gzip -9 and brotli -11; the `.wasm` binaries separately (only the WASM backend fetches one).
 *
 * Budget: the default path (backend `auto` on a WebGPU browser, mobilenet_v2_100) at most 300 KB gzip -9
 * (300,000 bytes) of JavaScript. mobilenet_v3_small_075's `.tflite` reader (src/tflite/ with the flatbuffers
 * runtime, its own `tflite-*.js` chunk) is loaded by that model only: it is reported and counted apart
 * (`tflite_only`), and each v3 path is held to the same budget without it.
 *
 * Peer in the same run: TF.js's own prebuilt minified bundles for the same path (`tf-core.min.js` +
 * `tf-backend-<x>.min.js` + `tf-layers.min.js`, or `tf-converter.min.js` + `mobilenet.min.js` for v1), as
 * the TF.js docs' script tags load them: tfjs alone, without our code, image decoders or IndexedDB store.
 * TF.js's bundles cannot read a `.tflite` (tfjs-tflite runs its own WASM runtime), so v3 paths have no peer.
 *
 * `--analyze` rebuilds in memory with the same config (sdk/vite.config.ts) and lists what each chunk is
 * made of by package (rolldown's rendered size per module, before minification: shares, not gzip bytes).
 * `--build` runs `npm run -s build:sdk` first. Progress to stderr; with --json stdout is one JSON object.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { table } from './report.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SDK_DIST = join(REPO, 'dist', 'sdk');
/** The issue's budget for the default path's JavaScript, gzip -9, in bytes (KB = 1000 bytes throughout). */
export const SDK_BUDGET_GZIP_BYTES = 300_000;
export const WASM_FILES = ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm.wasm'] as const;

type Part = 'webgpu' | 'wasm' | 'cpu' | 'v2' | 'v1' | 'v3';

/** How each dynamically imported part shows up in the manifest (`src` of its chunk). */
const PART_SOURCES: Record<Part, RegExp> = {
  webgpu: /node_modules\/@tensorflow\/tfjs-backend-webgpu\//,
  wasm: /node_modules\/@tensorflow\/tfjs-backend-wasm\//,
  cpu: /node_modules\/@tensorflow\/tfjs-backend-cpu\//,
  v2: /node_modules\/@tensorflow\/tfjs-layers\//,
  v1: /node_modules\/@tensorflow-models\/mobilenet\//,
  v3: /^src\/tflite\//,
};

interface PathSpec {
  key: string;
  title: string;
  parts: [Part, Part];
  /** The .wasm binary this path fetches on a browser with SIMD and no cross-origin isolation (all current ones). */
  wasm?: (typeof WASM_FILES)[number];
  /** TF.js's own bundles for the same path; null when they cannot run it (a `.tflite`). */
  peer: string[] | null;
}

const PEER = {
  core: 'node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js',
  webgpu: 'node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js',
  wasm: 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js',
  cpu: 'node_modules/@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js',
  v2: ['node_modules/@tensorflow/tfjs-layers/dist/tf-layers.min.js'],
  v1: ['node_modules/@tensorflow/tfjs-converter/dist/tf-converter.min.js', 'node_modules/@tensorflow-models/mobilenet/dist/mobilenet.min.js'],
};

const PATHS: readonly PathSpec[] = [
  { key: 'default_webgpu_v2', title: 'default: auto -> WebGPU, mobilenet_v2_100', parts: ['webgpu', 'v2'], peer: [PEER.core, PEER.webgpu, ...PEER.v2] },
  { key: 'wasm_v2', title: 'WASM, mobilenet_v2_100', parts: ['wasm', 'v2'], wasm: 'tfjs-backend-wasm-simd.wasm', peer: [PEER.core, PEER.wasm, ...PEER.v2] },
  { key: 'wasm_v1', title: 'WASM, mobilenet_v1_025', parts: ['wasm', 'v1'], wasm: 'tfjs-backend-wasm-simd.wasm', peer: [PEER.core, PEER.wasm, ...PEER.v1] },
  { key: 'webgpu_v1', title: 'WebGPU, mobilenet_v1_025', parts: ['webgpu', 'v1'], peer: [PEER.core, PEER.webgpu, ...PEER.v1] },
  { key: 'cpu_v2', title: 'cpu, mobilenet_v2_100', parts: ['cpu', 'v2'], peer: [PEER.core, PEER.cpu, ...PEER.v2] },
  { key: 'cpu_v1', title: 'cpu, mobilenet_v1_025', parts: ['cpu', 'v1'], peer: [PEER.core, PEER.cpu, ...PEER.v1] },
  { key: 'webgpu_v3', title: 'WebGPU, mobilenet_v3_small_075', parts: ['webgpu', 'v3'], peer: null },
  { key: 'wasm_v3', title: 'WASM, mobilenet_v3_small_075', parts: ['wasm', 'v3'], wasm: 'tfjs-backend-wasm-simd.wasm', peer: null },
  { key: 'cpu_v3', title: 'cpu, mobilenet_v3_small_075', parts: ['cpu', 'v3'], peer: null },
];

export interface Sizes {
  raw_bytes: number;
  gzip9_bytes: number;
  brotli11_bytes: number;
}

export interface ChunkSize extends Sizes {
  file: string;
  /** `entry`, `shared`, or the dynamic import it is the chunk of (`webgpu`, `v2`, ...). */
  role: string;
}

export interface PathSize {
  key: string;
  title: string;
  files: string[];
  js: Sizes;
  wasm_file: string | null;
  wasm: Sizes | null;
  /** The JS this path's model format adds to the entry and the backend (its chunk and what only it imports). */
  model_js: Sizes & { files: string[] };
  peer_files: string[];
  peer_js: Sizes | null;
  /** ours / peer, gzip -9. */
  ratio_vs_peer_gzip: number | null;
}

/** mobilenet_v3_small_075's own JS, counted apart from the budget (the issue allows an engine loaded only for this model). */
export interface TfliteOnly extends Sizes {
  /** The chunks only a v3 path downloads: `tflite-*.js` (src/tflite/ and flatbuffers). */
  files: string[];
  /** Whether any non-v3 path (the default one included) downloads one of them: must be false. */
  loaded_by_other_paths: boolean;
  /** Each v3 path's JS gzip -9 without these files, held to the budget. */
  v3_paths_without_it_gzip9_bytes: Record<string, number>;
  v3_paths_within_budget: boolean;
}

export interface SdkSizeResult {
  dir: string;
  budget_gzip9_bytes: number;
  default_path_js_gzip9_bytes: number;
  within_budget: boolean;
  tflite_only: TfliteOnly;
  chunks: ChunkSize[];
  paths: PathSize[];
  all_js: Sizes & { files: number };
  wasm: (Sizes & { file: string; used_when: string })[];
  types: { index_d_ts: boolean; declaration_files: number };
  analysis?: Record<string, { package: string; rendered_bytes: number }[]>;
}

const sizesCache = new Map<string, Sizes>();

function sizesOf(path: string): Sizes {
  let sizes = sizesCache.get(path);
  if (!sizes) {
    const bytes = readFileSync(path);
    sizes = {
      raw_bytes: bytes.length,
      gzip9_bytes: gzipSync(bytes, { level: 9 }).length,
      brotli11_bytes: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length,
    };
    sizesCache.set(path, sizes);
  }
  return sizes;
}

/** Per-file compression, summed: each file is its own HTTP response. */
function sum(paths: readonly string[]): Sizes {
  return paths.map(sizesOf).reduce((a, b) => ({ raw_bytes: a.raw_bytes + b.raw_bytes, gzip9_bytes: a.gzip9_bytes + b.gzip9_bytes, brotli11_bytes: a.brotli11_bytes + b.brotli11_bytes }), {
    raw_bytes: 0,
    gzip9_bytes: 0,
    brotli11_bytes: 0,
  });
}

interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

/** Files a chunk needs before it runs: itself and its static imports, transitively. */
function closure(manifest: Record<string, ManifestChunk>, key: string, into = new Set<string>()): Set<string> {
  const chunk = manifest[key];
  if (!chunk) throw new Error(`${key} is not in the manifest.`);
  if (into.has(chunk.file)) return into;
  into.add(chunk.file);
  for (const dep of chunk.imports ?? []) closure(manifest, dep, into);
  return into;
}

export function measureSdkSize(dir = SDK_DIST): SdkSizeResult {
  const manifestPath = join(dir, '.vite', 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`No ${relative(REPO, manifestPath)}: run \`npm run build:sdk\` (or \`npm run build\`) first.`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, ManifestChunk>;
  // Two entries: the page's `index.js` (measured) and the Web Worker's `worker.js`, which loads the same chunks.
  const entryKey = Object.keys(manifest).find((k) => manifest[k]?.isEntry && /sdk\/index\.ts$/.test(manifest[k]?.src ?? k));
  const workerKey = Object.keys(manifest).find((k) => manifest[k]?.isEntry && /sdk\/worker\.ts$/.test(manifest[k]?.src ?? k));
  if (!entryKey) throw new Error('The manifest has no entry chunk.');
  const partKey = (part: Part): string => {
    const key = Object.keys(manifest).find((k) => manifest[k]?.isDynamicEntry && PART_SOURCES[part].test(manifest[k]?.src ?? k));
    if (!key) throw new Error(`No dynamically imported chunk for ${part} in the manifest.`);
    return key;
  };
  const entryFiles = closure(manifest, entryKey);

  const roles = new Map<string, string>();
  for (const f of entryFiles) roles.set(f, 'shared (entry)');
  roles.set(manifest[entryKey]!.file, 'entry');
  if (workerKey) roles.set(manifest[workerKey]!.file, 'entry: Web Worker');
  for (const part of Object.keys(PART_SOURCES) as Part[]) roles.set(manifest[partKey(part)]!.file, `dynamic: ${part}`);
  const allJs = [...new Set(Object.values(manifest).map((c) => c.file))].filter((f) => f.endsWith('.js')).sort();
  const chunks = allJs.map((file): ChunkSize => ({ file, role: roles.get(file) ?? 'shared (backends)', ...sizesOf(join(dir, file)) }));
  chunks.sort((a, b) => order(a.role) - order(b.role) || b.gzip9_bytes - a.gzip9_bytes);

  const paths = PATHS.map((spec): PathSize => {
    const files = new Set(entryFiles);
    const [backend, model] = spec.parts;
    closure(manifest, partKey(backend), files);
    const modelFiles = [...closure(manifest, partKey(model))].filter((f) => !files.has(f));
    for (const f of modelFiles) files.add(f);
    const list = [...files];
    const js = sum(list.map((f) => join(dir, f)));
    const peerJs = spec.peer ? sum(spec.peer.map((f) => join(REPO, f))) : null;
    return {
      key: spec.key,
      title: spec.title,
      files: list,
      js,
      wasm_file: spec.wasm ?? null,
      wasm: spec.wasm ? sizesOf(join(dir, spec.wasm)) : null,
      model_js: { files: modelFiles, ...sum(modelFiles.map((f) => join(dir, f))) },
      peer_files: spec.peer ?? [],
      peer_js: peerJs,
      ratio_vs_peer_gzip: peerJs ? Math.round((js.gzip9_bytes / peerJs.gzip9_bytes) * 100) / 100 : null,
    };
  });
  const defaultJs = paths[0]!.js.gzip9_bytes;
  const v3Paths = paths.filter((p) => PATHS.find((s) => s.key === p.key)!.parts[1] === 'v3');
  const otherPaths = paths.filter((p) => !v3Paths.includes(p));
  // What every v3 path downloads and no other path does: the tflite chunk (flatbuffers is inside it).
  const tfliteFiles = [...closure(manifest, partKey('v3'))].filter((f) => !otherPaths.some((p) => p.files.includes(f)));
  const withoutTflite = Object.fromEntries(v3Paths.map((p) => [p.key, sum(p.files.filter((f) => !tfliteFiles.includes(f)).map((f) => join(dir, f))).gzip9_bytes]));
  const tfliteOnly: TfliteOnly = {
    files: tfliteFiles,
    ...sum(tfliteFiles.map((f) => join(dir, f))),
    loaded_by_other_paths: otherPaths.some((p) => p.files.some((f) => tfliteFiles.includes(f))),
    v3_paths_without_it_gzip9_bytes: withoutTflite,
    v3_paths_within_budget: Object.values(withoutTflite).every((b) => b <= SDK_BUDGET_GZIP_BYTES),
  };
  const usedWhen: Record<string, string> = {
    'tfjs-backend-wasm-simd.wasm': 'WASM backend, SIMD (every current browser)',
    'tfjs-backend-wasm-threaded-simd.wasm': 'WASM backend on a cross-origin isolated page',
    'tfjs-backend-wasm.wasm': 'WASM backend without SIMD',
  };
  return {
    dir: relative(REPO, dir) || '.',
    budget_gzip9_bytes: SDK_BUDGET_GZIP_BYTES,
    default_path_js_gzip9_bytes: defaultJs,
    within_budget: defaultJs <= SDK_BUDGET_GZIP_BYTES,
    tflite_only: tfliteOnly,
    chunks,
    paths,
    all_js: { files: allJs.length, ...sum(allJs.map((f) => join(dir, f))) },
    wasm: WASM_FILES.map((file) => ({ file, used_when: usedWhen[file] ?? '', ...sizesOf(join(dir, file)) })),
    types: { index_d_ts: existsSync(join(dir, 'index.d.ts')), declaration_files: countDts(dir) },
  };
}

function order(role: string): number {
  return role.startsWith('entry') ? 0 : role.startsWith('shared (entry') ? 1 : role.startsWith('shared') ? 2 : 3;
}

function countDts(dir: string): number {
  try {
    return execFileSync('find', [dir, '-name', '*.d.ts'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

/**
 * What each chunk is made of, by package (or first-party folder): an in-memory rebuild with
 * sdk/vite.config.ts, rolldown's rendered length per module (after tree-shaking, before minification).
 */
export async function analyzeChunks(): Promise<Record<string, { package: string; rendered_bytes: number }[]>> {
  const { build } = await import('vite');
  const config = (await import('../sdk/vite.config.js')).default;
  const out: Record<string, { package: string; rendered_bytes: number }[]> = {};
  await build({
    ...config,
    logLevel: 'silent',
    build: { ...config.build, write: false },
    plugins: [
      ...(config.plugins ?? []),
      {
        name: 'fewshot-sdk-size-analyze',
        generateBundle(_options, bundle) {
          for (const chunk of Object.values(bundle)) {
            if (chunk.type !== 'chunk') continue;
            const byPackage = new Map<string, number>();
            for (const [id, info] of Object.entries(chunk.modules)) {
              const pkg = packageOf(id);
              byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + info.renderedLength);
            }
            out[chunk.fileName] = [...byPackage].map(([pkg, n]) => ({ package: pkg, rendered_bytes: n })).sort((a, b) => b.rendered_bytes - a.rendered_bytes);
          }
        },
      },
    ],
  });
  return out;
}

function packageOf(id: string): string {
  const inModules = id.match(/.*\/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (inModules) return inModules[1]!;
  if (id.startsWith(REPO)) return `${relative(REPO, id).split('/')[0]}/ (ours)`;
  return id.replace(/^\0/, '');
}

// ------------------------------------------------------------------------------------------- report

const kb = (bytes: number | null | undefined): string => (bytes == null ? '-' : (bytes / 1000).toFixed(1));

export function formatSdkSize(r: SdkSizeResult): string {
  const out: string[] = [];
  const t = r.tflite_only;
  out.push(
    `fewshot-edge browser SDK (${r.dir}): what a page downloads, weights excluded. KB = 1000 bytes; gzip -9 and brotli -11 per file.`,
    `Budget: default path JS <= ${kb(r.budget_gzip9_bytes)} KB gzip: ${kb(r.default_path_js_gzip9_bytes)} KB ${r.within_budget ? 'PASS' : 'FAIL'}.`,
    `Counted apart: mobilenet_v3_small_075's .tflite reader (${t.files.join(', ')}: src/tflite/ + flatbuffers), ${kb(t.gzip9_bytes)} KB gzip, ` +
      `loaded by v3 paths only (${t.loaded_by_other_paths ? 'FAIL: another path loads it' : 'not by the default path nor any other'}); ` +
      `v3 paths without it: ${Object.entries(t.v3_paths_without_it_gzip9_bytes).map(([k, b]) => `${k} ${kb(b)}`).join(', ')} KB, ${t.v3_paths_within_budget ? 'PASS' : 'FAIL'}.`,
    `peer = TF.js's prebuilt .min.js bundles for the same backend and model format (tfjs only: no SDK code, decoders, store); none reads a .tflite.`,
    '',
    table(
      ['path (JS loaded)', 'files', 'raw KB', 'gzip KB', 'brotli KB', 'model format only gzip KB', 'peer gzip KB', 'ours/peer', '+ .wasm gzip KB'],
      r.paths.map((p) => [
        p.title,
        p.files.length,
        kb(p.js.raw_bytes),
        kb(p.js.gzip9_bytes),
        kb(p.js.brotli11_bytes),
        kb(p.model_js.gzip9_bytes),
        kb(p.peer_js?.gzip9_bytes),
        p.ratio_vs_peer_gzip ?? '-',
        p.wasm ? `${kb(p.wasm.gzip9_bytes)} (${p.wasm_file})` : '-',
      ]),
    ),
    '',
    table(
      ['chunk', 'role', 'raw KB', 'gzip KB', 'brotli KB'],
      [...r.chunks.map((c) => [c.file, c.role, kb(c.raw_bytes), kb(c.gzip9_bytes), kb(c.brotli11_bytes)]), [`all JS (${r.all_js.files} files)`, '', kb(r.all_js.raw_bytes), kb(r.all_js.gzip9_bytes), kb(r.all_js.brotli11_bytes)]],
    ),
    '',
    table(
      ['.wasm (fetched by the WASM backend only)', 'raw KB', 'gzip KB', 'brotli KB', 'used'],
      r.wasm.map((w) => [w.file, kb(w.raw_bytes), kb(w.gzip9_bytes), kb(w.brotli11_bytes), w.used_when]),
    ),
    '',
    `Types: dist/sdk/index.d.ts ${r.types.index_d_ts ? 'present' : 'MISSING'}, ${r.types.declaration_files} declaration files.`,
  );
  if (r.analysis) {
    out.push('', 'Chunk contents by package (rendered bytes before minification, top 6):');
    for (const [file, parts] of Object.entries(r.analysis)) {
      const total = parts.reduce((s, p) => s + p.rendered_bytes, 0);
      out.push(`  ${file} (${kb(total)} KB): ${parts.slice(0, 6).map((p) => `${p.package} ${kb(p.rendered_bytes)}`).join(', ')}`);
    }
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean', default: false }, build: { type: 'boolean', default: false }, analyze: { type: 'boolean', default: false }, dir: { type: 'string' } },
    strict: true,
  });
  if (values.build) {
    process.stderr.write('[sdk-size] npm run -s build:sdk\n');
    execFileSync('npm', ['run', '-s', 'build:sdk'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const result = measureSdkSize(values.dir ? resolve(values.dir) : SDK_DIST);
  if (values.analyze) {
    process.stderr.write('[sdk-size] analysing chunks (in-memory rebuild)\n');
    result.analysis = await analyzeChunks();
  }
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatSdkSize(result)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`sdk-size failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
