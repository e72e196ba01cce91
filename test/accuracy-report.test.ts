import { describe, expect, it } from 'vitest';
import {
  accuracyTable,
  accuracyVsShotsSvg,
  domainTable,
  escapeXml,
  officialRunsTable,
  pooledReliability,
  reliabilitySvg,
  type SettingResult,
  type Stat,
  type SuiteResult,
} from '../scripts/accuracy-report.js';

const stat = (accuracy: number, ci95 = 0.01): Stat => ({ accuracy, ci95 });

/** Ten empty bins except the given ones. */
function bins(filled: Record<number, { confidence: number; accuracy: number; count: number }>): SettingResult['reliability'] {
  return Array.from({ length: 10 }, (_, i) => filled[i] ?? { confidence: 0, accuracy: 0, count: 0 });
}

function setting(ways: number, shots: number, ours: number, open = true): SettingResult {
  return {
    ways,
    shots,
    episodes: 100,
    ours: stat(ours, 0.009),
    plain: stat(ours - 0.02),
    peer_k3: stat(ours - 0.05),
    peer_k1: stat(ours - 0.013),
    ece: 0.0346,
    reliability: bins({ 6: { confidence: 0.65, accuracy: 0.6, count: 10 }, 9: { confidence: 0.95, accuracy: 0.9, count: 30 } }),
    open_set: open ? { auroc: 0.8123, threshold: 0.5, false_unknown: 0.04, caught_unknown: 0.555 } : null,
  };
}

function suite(model: string, dataset: string, settings: SettingResult[], official: SuiteResult['official_runs'] = null): SuiteResult {
  return { model, dataset, data: `/data/${dataset}`, classes: 50, flip: true, seed: 1, queries: 5, images_embedded: 1000, settings, official_runs: official };
}

const results: SuiteResult[] = [
  suite('mobilenet_v2_100', 'caltech101', [setting(5, 1, 0.912), setting(5, 5, 0.96), setting(20, 1, 0.8, false), setting(20, 5, 0.88, false)]),
  suite('mobilenet_v2_100', 'omniglot_evaluation', [setting(5, 1, 0.7), setting(5, 5, 0.85)], {
    runs: 20,
    trials: 400,
    ours: 0.6526,
    plain: 0.63,
    peer_k1: 0.6,
    peer_k3: 0.55,
  }),
  suite('mobilenet_v1_025', 'caltech101', [setting(5, 1, 0.8)]),
];

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;
const dataRows = (table: string) => table.trim().split('\n').slice(2);

describe('accuracyTable', () => {
  const table = accuracyTable(results);

  it('has the header and one row per setting', () => {
    const [header] = table.split('\n');
    expect(header).toBe('| model | dataset | setting | ours | plain prototype | peer k=3 | peer k=1 | ours − best peer | ECE | AUROC | false unknown | unknowns caught |');
    expect(dataRows(table)).toHaveLength(7);
    for (const row of dataRows(table)) expect(count(row, '|')).toBe(13);
  });

  it('formats accuracies as percent ± CI with one decimal, the margin in signed points, ECE and AUROC with three decimals', () => {
    const row = dataRows(table).find((r) => r.includes('mobilenet_v2_100 | caltech101 | 5-way 1-shot'));
    expect(row).toBe('| mobilenet_v2_100 | caltech101 | 5-way 1-shot | 91.2 ± 0.9 | 89.2 ± 1.0 | 86.2 ± 1.0 | 89.9 ± 1.0 | +1.3 | 0.035 | 0.812 | 4.0 | 55.5 |');
  });

  it('shows a dash where open set was not measured and orders rows by model, dataset, ways, shots', () => {
    const rows = dataRows(table);
    expect(rows[0]).toContain('mobilenet_v1_025 | caltech101 | 5-way 1-shot');
    expect(rows[3]).toContain('mobilenet_v2_100 | caltech101 | 20-way 1-shot');
    expect(rows[3]).toMatch(/\| – \| – \| – \|$/);
  });

  it('signs a negative margin', () => {
    const s = { ...setting(5, 1, 0.5), peer_k1: stat(0.504) };
    expect(accuracyTable([suite('m', 'd', [s])])).toContain('| -0.4 |');
  });
});

describe('domainTable', () => {
  const three = [
    ...results,
    suite('mobilenet_v3_small_075', 'caltech101', [setting(5, 1, 0.85), setting(5, 5, 0.95)]),
    suite('mobilenet_v3_small_075', 'omniglot_evaluation', [setting(5, 1, 0.75)]),
    suite('mobilenet_v1_025', 'omniglot_evaluation', [setting(5, 5, 0.9)]),
  ];
  const table = domainTable(three, ['caltech101', 'omniglot_evaluation']);

  it('has our head and the plain prototype of every model, sorted by name, one row per domain and the mean', () => {
    const [header] = table.split('\n');
    expect(header).toBe(
      '| domain | mobilenet_v1_025 ours | mobilenet_v1_025 plain | mobilenet_v2_100 ours | mobilenet_v2_100 plain | mobilenet_v3_small_075 ours | mobilenet_v3_small_075 plain |',
    );
    expect(dataRows(table)).toEqual([
      '| caltech101 | 80.0 | 78.0 | 91.2 | 89.2 | 85.0 | 83.0 |',
      // v1 has omniglot_evaluation only at 5 shots: a dash, and no mean for it.
      '| omniglot_evaluation | – | – | 70.0 | 68.0 | 75.0 | 73.0 |',
      '| mean of 2 | – | – | 80.6 | 78.6 | 80.0 | 78.0 |',
    ]);
  });

  it('takes another setting', () => {
    expect(dataRows(domainTable(three, ['caltech101'], { ways: 5, shots: 5 }))[0]).toBe('| caltech101 | – | – | 96.0 | 94.0 | 95.0 | 93.0 |');
  });
});

describe('officialRunsTable', () => {
  it('has one row per result with official runs, in percent, with the error rate of ours', () => {
    const table = officialRunsTable(results);
    expect(table.split('\n')[0]).toBe('| model | runs | trials | ours | plain | peer k=1 | peer k=3 | ours error rate |');
    expect(dataRows(table)).toEqual(['| mobilenet_v2_100 | 20 | 400 | 65.3 | 63.0 | 60.0 | 55.0 | 34.7 |']);
  });

  it('is empty without official runs', () => {
    expect(officialRunsTable([results[2] as SuiteResult])).toBe('');
  });
});

describe('accuracyVsShotsSvg', () => {
  const svg = accuracyVsShotsSvg(results, 'mobilenet_v2_100');

  it('is a self-contained SVG document', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('font-family="sans-serif"');
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).not.toMatch(/<style|@import|url\(/);
  });

  it('has one panel per dataset and way count, with one line per series in each', () => {
    for (const title of ['caltech101, 5-way', 'caltech101, 20-way', 'omniglot_evaluation, 5-way']) expect(svg).toContain(`>${title}<`);
    expect(svg).not.toContain('omniglot_evaluation, 20-way');
    expect(count(svg, '<polyline') + count(svg, '<path')).toBe(3 * 4);
    expect(count(svg, 'stroke="#1f77b4"')).toBeGreaterThan(0);
    expect(count(svg, 'stroke-dasharray')).toBeGreaterThan(0);
  });

  it('labels the axes, the shot ticks and the legend', () => {
    for (const label of ['accuracy (%)', 'shots', '>1<', '>5<', 'ours', 'plain prototype', 'peer k=3', 'peer k=1']) expect(svg).toContain(label);
  });

  it('balances its tags', () => {
    const opened = (svg.match(/<[a-z]+[^>]*[^/]>/g) ?? []).length;
    expect(opened).toBe(count(svg, '</'));
  });

  it('escapes text', () => {
    expect(escapeXml('a & <b>')).toBe('a &amp; &lt;b&gt;');
    const odd = accuracyVsShotsSvg([suite('m<&>', 'x & y', [setting(5, 1, 0.5)])], 'm<&>');
    expect(odd).toContain('x &amp; y, 5-way');
    expect(odd).toContain('m&lt;&amp;&gt;');
    expect(odd).not.toContain('x & y');
  });
});

describe('reliability', () => {
  it('pools bins weighted by count and computes the ECE', () => {
    const pooled = pooledReliability(
      [
        suite('m', 'a', [{ ...setting(5, 1, 0.5), reliability: bins({ 9: { confidence: 0.9, accuracy: 1, count: 10 } }) }]),
        suite('m', 'b', [{ ...setting(5, 1, 0.5), reliability: bins({ 9: { confidence: 0.96, accuracy: 0.7, count: 30 }, 1: { confidence: 0.15, accuracy: 0.15, count: 10 } }) }]),
      ],
      'm',
    );
    expect(pooled.total).toBe(50);
    expect(pooled.bins).toHaveLength(10);
    expect(pooled.bins[9]?.count).toBe(40);
    expect(pooled.bins[9]?.confidence).toBeCloseTo(0.945);
    expect(pooled.bins[9]?.accuracy).toBeCloseTo(0.775);
    expect(pooled.ece).toBeCloseTo((40 / 50) * 0.17);
  });

  it('draws bars, the dashed diagonal and the ECE in the title', () => {
    const svg = reliabilitySvg(results, 'mobilenet_v2_100');
    expect(svg.startsWith('<svg')).toBe(true);
    // Two non-empty bins pooled over six settings: 60 predictions at 0.65 / 0.6, 180 at 0.95 / 0.9 → ECE 0.05.
    expect(svg).toContain('Reliability — mobilenet_v2_100 (ECE 0.050)');
    expect(count(svg, 'fill-opacity="0.75"')).toBe(2 + 1);
    expect(svg).toContain('stroke-dasharray');
    for (const label of ['confidence', 'accuracy', '0.0', '1.0']) expect(svg).toContain(label);
  });
});
