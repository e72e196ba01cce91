/**
 * Where the tfjs `.wasm` binaries are when nobody says otherwise: beside the SDK's own script, as
 * `npm run build` lays out `dist/sdk/`.
 *
 * Each URL is a literal `new URL('./<file>', import.meta.url)`, the one pattern Vite, webpack 5, Parcel and
 * esbuild-based tools all recognise: an app that bundles the SDK gets the binaries emitted and these URLs
 * rewritten, with no configuration. (Our own build leaves them alone through `@vite-ignore`; the minifier
 * drops that comment, so an app's bundler sees the plain pattern.)
 */
export function bundledWasmUrls(): Record<WasmFile, string> {
  return {
    'tfjs-backend-wasm.wasm': new URL(/* @vite-ignore */ './tfjs-backend-wasm.wasm', import.meta.url).href,
    'tfjs-backend-wasm-simd.wasm': new URL(/* @vite-ignore */ './tfjs-backend-wasm-simd.wasm', import.meta.url).href,
    'tfjs-backend-wasm-threaded-simd.wasm': new URL(/* @vite-ignore */ './tfjs-backend-wasm-threaded-simd.wasm', import.meta.url).href,
  };
}

/** The three builds tfjs chooses from: plain, SIMD, and SIMD with threads (cross-origin isolated pages only). */
export type WasmFile = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

/** The WASM builds by name, as `info().wasmBuild` reports them. */
export type WasmBuild = 'threaded-simd' | 'simd' | 'plain';

/** The file tfjs loads for these capabilities. */
export function wasmFileFor(simd: boolean, threads: boolean): WasmFile {
  if (simd && threads) return 'tfjs-backend-wasm-threaded-simd.wasm';
  return simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
}

/** The three URLs from the `wasmPaths` option: a folder (ending in `/`) or a map of file names to URLs. */
export function wasmUrls(wasmPaths: string | Partial<Record<string, string>> | undefined): Record<WasmFile, string> {
  const bundled = bundledWasmUrls();
  if (wasmPaths === undefined) return bundled;
  const files = Object.keys(bundled) as WasmFile[];
  return Object.fromEntries(
    files.map((file) => {
      const url = typeof wasmPaths === 'string' ? wasmPaths + file : wasmPaths[file];
      return [file, url ? new URL(url, globalThis.location?.href).href : bundled[file]];
    }),
  ) as Record<WasmFile, string>;
}
