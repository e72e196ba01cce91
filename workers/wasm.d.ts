// wrangler compiles imported `.wasm` files to modules at build time (Workers cannot compile bytes at run time).
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
