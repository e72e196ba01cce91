import type { EngineName } from '../engines.js';

/**
 * What each engine offers the SDK, as the browser tests measure it (they assert these values, so a browser
 * update that changes one fails loudly instead of being skipped). docs/BROWSERS.md is this table explained.
 */
export interface EngineFeatures {
  /** `navigator.gpu` exists on a page of a browser launched without WebGPU flags. */
  navigatorGpu: boolean;
  /** A WebGPU adapter with the test launch flags (Chromium: SwiftShader), so `backend: 'webgpu'` starts. */
  webgpu: boolean;
  /** tfjs finds WASM SIMD (`WASM_HAS_SIMD_SUPPORT`), so it loads tfjs-backend-wasm-simd.wasm. */
  wasmSimd: boolean;
  /**
   * tfjs finds WASM threads (`WASM_HAS_MULTITHREAD_SUPPORT`) on a cross-origin isolated page: it needs the
   * SharedArrayBuffer global, which WebKitGTK does not expose even when `crossOriginIsolated` is true.
   */
  wasmThreadsWhenIsolated: boolean;
  /** `createImageBitmap` decodes a truncated JPEG (the missing part grey) instead of rejecting it. */
  decodesTruncatedJpeg: boolean;
}

export const FEATURES: Readonly<Record<EngineName, EngineFeatures>> = {
  chromium: { navigatorGpu: true, webgpu: true, wasmSimd: true, wasmThreadsWhenIsolated: true, decodesTruncatedJpeg: false },
  firefox: { navigatorGpu: false, webgpu: false, wasmSimd: true, wasmThreadsWhenIsolated: true, decodesTruncatedJpeg: true },
  webkit: { navigatorGpu: false, webgpu: false, wasmSimd: true, wasmThreadsWhenIsolated: false, decodesTruncatedJpeg: true },
};
