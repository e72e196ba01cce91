/** Prints the operators, tensor shapes, types and quantisation of a .tflite file. Usage: tsx spike/inspect.ts [file] */
import { readFileSync } from 'node:fs';
import { operatorName, parseTflite } from '../src/tflite/schema.js';

export const V3_FILE = new URL('../../../../shared/', import.meta.url).pathname + 'models/mobilenet_v3_small_075_embedder/mobilenet_v3_small.tflite';
const file = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? V3_FILE;
const model = parseTflite(readFileSync(file));
console.log(`schema version ${model.version}, "${model.description}", ${model.subgraphs.length} subgraph(s)`);
console.log('metadata:', [...model.metadata].map(([k, v]) => `${k} (${v.length} B)`).join(', '));
const g = model.subgraphs[0]!;
const types = new Map<number, number>();
let quantised = 0, sparse = 0, constBytes = 0;
for (const t of g.tensors) {
  types.set(t.type, (types.get(t.type) ?? 0) + 1);
  if (t.quantization) quantised++;
  if (t.sparse) sparse++;
  constBytes += t.data?.length ?? 0;
}
const show = (i: number) => { const t = g.tensors[i]; return t ? `${t.name}[${t.shape.join('x')}]${t.data ? '*' : ''}` : '-'; };
console.log(`tensors: ${g.tensors.length}; types ${JSON.stringify(Object.fromEntries(types))} (0=float32, 2=int32); quantised ${quantised}; sparse ${sparse}; constant bytes ${constBytes}`);
console.log('inputs:', g.inputs.map(show).join(', '), ' outputs:', g.outputs.map(show).join(', '));
const counts = new Map<string, number>();
for (const op of g.operators) {
  const name = `${operatorName(op.opcode)} (code ${op.opcode}, v${op.opcodeVersion})`;
  counts.set(name, (counts.get(name) ?? 0) + 1);
}
console.log(`operators: ${g.operators.length}`);
for (const [name, n] of counts) console.log(`  ${n.toString().padStart(3)} x ${name}`);
if (process.argv.includes('--all')) {
  g.operators.forEach((op, i) => {
    const { kind, ...opts } = op.options;
    console.log(`${String(i).padStart(3)} ${operatorName(op.opcode).padEnd(18)} ${kind === 'none' ? '' : JSON.stringify(opts)}\n      in: ${op.inputs.map(show).join(', ')}\n      out: ${op.outputs.map(show).join(', ')}`);
  });
}
