/** The human-readable form of the bench result (the default output; `--json` prints the object instead). */
import type { BenchResult } from './bench.js';

type Cell = string | number | boolean | null | undefined;

function cell(value: Cell): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'boolean') return value ? 'PASS' : 'FAIL';
  return String(value);
}

/** Left-aligned first column, right-aligned numbers, two spaces between columns. */
export function table(headers: readonly string[], rows: readonly Cell[][]): string {
  const text = [headers.map(String), ...rows.map((row) => row.map(cell))];
  const widths = headers.map((_, c) => Math.max(...text.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]): string =>
    row.map((v, c) => (c === 0 ? v.padEnd(widths[c] as number) : v.padStart(widths[c] as number))).join('  ');
  return [line(text[0] as string[]), widths.map((w) => '-'.repeat(w)).join('  '), ...text.slice(1).map(line)].join('\n');
}

export function formatReport(r: BenchResult): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `fewshot-edge bench: ${r.model} on ${r.backend}, ${m.cpus} cpus (${m.cpu_model}), Node ${m.node}, ` +
      `load avg ${m.loadavg_start.join('/')} -> ${m.loadavg_end.join('/')}${r.quick ? ', QUICK run' : ''}`,
    `ours = library default (${r.ours_workers} worker thread${r.ours_workers === 1 ? '' : 's'}); ours in-thread = workers: 0; ` +
      `peer = TF.js docs pipeline (network on ${r.peer_engine}) + KNNClassifier; all on wasm. Times in ms, medians.`,
    `flip = image and mirror image in one batch, embeddings averaged (createClassifier's default, so addExample includes it ` +
      `unless flip: false); ours/peer uses the ours (pool) column.`,
    '',
  );
  out.push(
    table(
      ['embedding', 'ours', 'ours in-thread', 'peer', 'ours/peer'],
      [
        [`single image (${r.images.count} Caltech JPEGs x ${r.images.rounds})`, r.embed_ms.ours, r.embed_ms.ours_in_thread, r.embed_ms.peer, r.embed_ratio],
        ['single image, ours with flip (peer: no flip)', r.embed_flip_ms.ours, r.embed_flip_ms.ours_in_thread, r.embed_ms.peer, r.embed_flip_ratio_vs_peer.ours],
        ['  flip / plain, same run', r.embed_flip_ratio_vs_plain.ours, r.embed_flip_ratio_vs_plain.ours_in_thread, null, null],
        [`batch of ${r.batch_size}, per image`, r.embed_batch_ms_per_image.ours, r.embed_batch_ms_per_image.ours_in_thread, r.embed_batch_ms_per_image.peer, null],
        ['batch speedup (single / batch)', r.batch_speedup, r.batch_speedup_detail.ours_in_thread, r.batch_speedup_detail.peer, null],
        ['addExample, ours with flip (default)', r.add_example_ms.ours, r.add_example_ms.ours_in_thread, r.add_example_ms.peer, r.add_example_ratio_vs_peer.ours],
        ['addExample, ours with flip: false', r.add_example_ms.ours_noflip, r.add_example_ms.ours_in_thread_noflip, r.add_example_ms.peer, r.add_example_ratio_vs_peer.ours_noflip],
        ['head / KNN add only (no embedding)', r.add_example_ms.head_only, null, r.add_example_ms.peer_knn_only, null],
        ['cold start to first embedding', r.load_ms.ours, r.load_ms.ours_in_thread, r.load_ms.peer, null],
        ['cold start peak RSS (MB)', r.peak_rss_mb.cold_start.ours, r.peak_rss_mb.cold_start.ours_in_thread, r.peak_rss_mb.cold_start.peer, null],
      ],
    ),
    '',
  );
  const sizes = Object.keys(r.classify_ms);
  out.push(
    table(
      ['classify, N stored', 'ours prototype', 'ours knn', 'peer', 'peer first', 'peer/ours', 'peak RSS MB proto/knn/peer'],
      sizes.map((n) => {
        const c = r.classify_ms[n];
        const d = r.classify_detail[n];
        return [
          n,
          c?.ours,
          c?.ours_knn,
          c?.peer,
          c?.peer_first,
          c?.ours != null && c.peer != null ? Math.round(c.peer / c.ours) : null,
          [d?.ours?.peak_rss_mb, d?.ours_knn?.peak_rss_mb, d?.peer?.peak_rss_mb].map(cell).join(' / '),
        ];
      }),
    ),
    '',
  );
  out.push(
    table(
      ['target', 'value', 'target', 'result'],
      Object.entries(r.targets).map(([name, t]) => [name, t.value, t.target, t.pass]),
    ),
  );
  if (r.notes.length > 0) out.push('', 'Notes:', ...r.notes.map((n) => `- ${n}`));
  out.push('', `Took ${r.duration_s} s. Run with --json for every figure.`);
  return out.join('\n');
}
