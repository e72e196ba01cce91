/**
 * Turns the evaluation results in `docs/eval/*.json` (each the output of `fewshot eval --json` over one
 * dataset with one model) into the figures and tables of docs/ACCURACY.md:
 *
 *   - `docs/accuracy-vs-shots-<model>.svg`: accuracy against shots, one panel per dataset and way count;
 *   - `docs/reliability-<model>.svg`: the reliability diagram of our confidence, pooled over every setting;
 *   - `docs/accuracy-tables.md`: the 5-way 1-shot table per development domain with its mean, the per-setting
 *     table and the Omniglot official-runs table.
 *
 * No dependencies: the SVG is written by hand. The functions that build the figures and tables are pure and
 * exported (test/accuracy-report.test.ts); only `main` touches the file system.
 *
 *   npx tsx scripts/accuracy-report.ts
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EvalResult, SettingResult, Stat } from '../node/eval.js';
import type { ReliabilityBin } from '../src/metrics.js';
import { DEV_DOMAINS } from './dev-data.js';

// --------------------------------------------------------------------------------------------- input

export type { Stat, SettingResult, OfficialRunsResult as OfficialRuns } from '../node/eval.js';
export type { ReliabilityBin } from '../src/metrics.js';

/** One `docs/eval/*.json` file: `fewshot eval --json` for one model over one dataset, plus its short name. */
export interface SuiteResult extends Pick<EvalResult, 'data' | 'classes' | 'flip' | 'seed' | 'queries' | 'images_embedded' | 'settings' | 'official_runs'> {
  model: string;
  /** Short dataset name, e.g. `caltech101`. */
  dataset: string;
}

// --------------------------------------------------------------------------------------------- formatting

const DASH = '–';

/** A fraction as a percentage with one decimal, e.g. `0.9123` → `91.2`. */
export function percent(fraction: number): string {
  return noNegativeZero((fraction * 100).toFixed(1));
}

/** A difference of fractions in percentage points with its sign, e.g. `+1.3`, `-0.4`, `0.0`. */
export function signedPoints(fraction: number): string {
  const text = percent(fraction);
  return Number(text) > 0 ? `+${text}` : text;
}

function noNegativeZero(text: string): string {
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

function statText(stat: Stat | null): string {
  return stat ? `${percent(stat.accuracy)} ± ${percent(stat.ci95)}` : DASH;
}

function settingLabel(setting: { ways: number; shots: number }): string {
  return `${setting.ways}-way ${setting.shots}-shot`;
}

export function markdownTable(header: string[], align: ('l' | 'r')[], rows: string[][]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `| ${align.map((a) => (a === 'r' ? '---:' : '---')).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n') + '\n';
}

/** Results ordered by model then dataset, each with its settings ordered by ways then shots. */
function ordered(results: SuiteResult[]): SuiteResult[] {
  return [...results]
    .sort((a, b) => a.model.localeCompare(b.model) || a.dataset.localeCompare(b.dataset))
    .map((r) => ({ ...r, settings: [...r.settings].sort((a, b) => a.ways - b.ways || a.shots - b.shots) }));
}

// --------------------------------------------------------------------------------------------- tables

function bestPeer(setting: SettingResult): number | null {
  const peers = [setting.peer_k3, setting.peer_k1].filter((s): s is Stat => s !== null);
  return peers.length ? Math.max(...peers.map((s) => s.accuracy)) : null;
}

function accuracyRow(result: SuiteResult, s: SettingResult): string[] {
  const peer = bestPeer(s);
  const open = s.open_set;
  return [
    result.model,
    result.dataset,
    settingLabel(s),
    statText(s.ours),
    statText(s.plain),
    statText(s.peer_k3),
    statText(s.peer_k1),
    peer === null ? DASH : signedPoints(s.ours.accuracy - peer),
    s.ece.toFixed(3),
    open ? open.auroc.toFixed(3) : DASH,
    open ? percent(open.false_unknown) : DASH,
    open ? percent(open.caught_unknown) : DASH,
  ];
}

/**
 * The per-setting markdown table, one row per setting of every result: accuracies as `mean ± ci95` in
 * percent, the margin of ours over the better peer in points, ECE and AUROC to 3 decimals, the open-set
 * rates in percent, and `–` where a figure is missing.
 */
export function accuracyTable(results: SuiteResult[]): string {
  const header = ['model', 'dataset', 'setting', 'ours', 'plain prototype', 'peer k=3', 'peer k=1', 'ours − best peer', 'ECE', 'AUROC', 'false unknown', 'unknowns caught'];
  const align: ('l' | 'r')[] = ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];
  const rows = ordered(results).flatMap((r) => r.settings.map((s) => accuracyRow(r, s)));
  return markdownTable(header, align, rows);
}

/**
 * The markdown table of Omniglot's official one-shot runs, one row per result that has them: accuracies in
 * percent and the error rate of ours. Empty string when no result has official runs.
 */
export function officialRunsTable(results: SuiteResult[]): string {
  const rows = ordered(results).flatMap(({ model, official_runs: o }) => {
    if (!o) return [];
    const acc = (value: number | null) => (value === null ? DASH : percent(value));
    return [[model, String(o.runs), String(o.trials), acc(o.ours), acc(o.plain), acc(o.peer_k1), acc(o.peer_k3), percent(1 - o.ours)]];
  });
  if (rows.length === 0) return '';
  const header = ['model', 'runs', 'trials', 'ours', 'plain', 'peer k=1', 'peer k=3', 'ours error rate'];
  return markdownTable(header, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'], rows);
}

/**
 * One setting (default 5-way 1-shot) across domains: one row per domain in the order given, for each model
 * (sorted by name) our head and the plain prototype in percent, and a last row with the mean over the
 * domains (`–` where a model lacks a domain, and then no mean for it).
 */
export function domainTable(results: SuiteResult[], domains: readonly string[], setting = { ways: 5, shots: 1 }): string {
  const models = [...new Set(results.map((r) => r.model))].sort();
  const find = (model: string, dataset: string) =>
    results.find((r) => r.model === model && r.dataset === dataset)?.settings.find((s) => s.ways === setting.ways && s.shots === setting.shots);
  const columns = models.flatMap((model) => [
    { header: `${model} ours`, value: (d: string) => find(model, d)?.ours.accuracy },
    { header: `${model} plain`, value: (d: string) => find(model, d)?.plain.accuracy },
  ]);
  const rows = domains.map((d) => [d, ...columns.map((c) => { const v = c.value(d); return v === undefined ? DASH : percent(v); })]);
  const mean = columns.map((c) => {
    const values = domains.map(c.value);
    return values.every((v): v is number => v !== undefined) && values.length ? percent(values.reduce((a, v) => a + v, 0) / values.length) : DASH;
  });
  rows.push([`mean of ${domains.length}`, ...mean]);
  return markdownTable(['domain', ...columns.map((c) => c.header)], ['l', ...columns.map((): 'r' => 'r')], rows);
}

// --------------------------------------------------------------------------------------------- SVG basics

/** `&`, `<`, `>` and `"` escaped for SVG text and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A number for an attribute: coordinates rounded to 0.01 px. */
function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

type Attrs = Record<string, string | number>;

function attrs(a: Attrs): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? px(v) : escapeXml(v)}"`)
    .join('');
}

export function el(tag: string, a: Attrs, content?: string): string {
  return content === undefined ? `<${tag}${attrs(a)}/>` : `<${tag}${attrs(a)}>${content}</${tag}>`;
}

export function text(x: number, y: number, content: string, a: Attrs = {}): string {
  return el('text', { x, y, ...a }, escapeXml(content));
}

export function line(x1: number, y1: number, x2: number, y2: number, a: Attrs): string {
  return el('line', { x1, y1, x2, y2, ...a });
}

export function svgDocument(width: number, height: number, title: string, body: string[]): string {
  const root = { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': 'sans-serif', 'font-size': 12 };
  return [
    `<svg${attrs(root)}>`,
    el('title', {}, escapeXml(title)),
    el('rect', { x: 0, y: 0, width, height, fill: 'white' }),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** Round tick values covering [lo, hi]: a step of 1, 2, 2.5 or 5 times a power of ten giving 3–6 ticks. */
function niceStep(span: number, target = 5): number {
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => span / s <= target + 1);
  return step ?? 10 * power;
}

function ticks(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

// --------------------------------------------------------------------------------------------- accuracy vs shots

interface Series {
  label: string;
  color: string;
  dash?: string;
  marker: 'circle' | 'square' | 'diamond' | 'triangle';
  stat: (s: SettingResult) => Stat | null;
}

const SERIES: Series[] = [
  { label: 'ours', color: '#1f77b4', marker: 'circle', stat: (s) => s.ours },
  { label: 'plain prototype', color: '#7f7f7f', dash: '6 4', marker: 'square', stat: (s) => s.plain },
  { label: 'peer k=3', color: '#d62728', marker: 'diamond', stat: (s) => s.peer_k3 },
  { label: 'peer k=1', color: '#ff7f0e', marker: 'triangle', stat: (s) => s.peer_k1 },
];

/** One panel of the accuracy figure: the settings of one dataset with one way count. */
interface Panel {
  title: string;
  settings: SettingResult[];
}

function panelsOf(results: SuiteResult[]): Panel[] {
  const panels = new Map<string, Panel>();
  for (const r of ordered(results)) {
    for (const s of r.settings) {
      const title = `${r.dataset}, ${s.ways}-way`;
      const panel = panels.get(title) ?? { title, settings: [] };
      if (!panel.settings.some((t) => t.shots === s.shots)) panel.settings.push(s);
      panels.set(title, panel);
    }
  }
  return [...panels.values()];
}

/** Y range in percent: a margin below the lowest and above the highest error-bar end, on ticks, in [0, 100]. */
function yRange(settings: SettingResult[]): { lo: number; hi: number; step: number } {
  const ends = settings.flatMap((s) =>
    SERIES.map((series) => series.stat(s)).flatMap((st) => (st ? [st.accuracy - st.ci95, st.accuracy + st.ci95] : [])),
  ).map((f) => f * 100);
  const min = ends.length ? Math.min(...ends) : 0;
  const max = ends.length ? Math.max(...ends) : 100;
  const pad = Math.max(1, 0.1 * (max - min));
  const step = niceStep(Math.max(2, max - min + 2 * pad), 4);
  const lo = Math.max(0, Math.floor((min - pad) / step) * step);
  const hi = Math.min(100, Math.ceil((max + pad) / step) * step);
  return { lo, hi: hi > lo ? hi : Math.min(100, lo + step), step };
}

function marker(shape: Series['marker'], x: number, y: number, color: string): string {
  const r = 3.5;
  switch (shape) {
    case 'circle':
      return el('circle', { cx: x, cy: y, r, fill: color });
    case 'square':
      return el('rect', { x: x - r, y: y - r, width: 2 * r, height: 2 * r, fill: color });
    case 'diamond':
      return el('polygon', { points: `${px(x)},${px(y - r - 1)} ${px(x + r + 1)},${px(y)} ${px(x)},${px(y + r + 1)} ${px(x - r - 1)},${px(y)}`, fill: color });
    case 'triangle':
      return el('polygon', { points: `${px(x)},${px(y - r - 1)} ${px(x + r + 1)},${px(y + r)} ${px(x - r - 1)},${px(y + r)}`, fill: color });
  }
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Y axis with tick labels and light grid lines across the plot area. */
function yAxis(plot: Box, lo: number, hi: number, step: number, format: (v: number) => string): string[] {
  const yOf = (v: number) => plot.y + plot.height - ((v - lo) / (hi - lo)) * plot.height;
  return [
    ...ticks(lo, hi, step).flatMap((v) => [
      line(plot.x, yOf(v), plot.x + plot.width, yOf(v), { stroke: '#e5e5e5' }),
      line(plot.x - 4, yOf(v), plot.x, yOf(v), { stroke: '#333' }),
      text(plot.x - 6, yOf(v) + 4, format(v), { 'text-anchor': 'end' }),
    ]),
    line(plot.x, plot.y, plot.x, plot.y + plot.height, { stroke: '#333' }),
  ];
}

/** One series of one panel: the line, the error bars with caps and the markers. */
function seriesMarks(series: Series, points: { x: number; stat: Stat }[], yOf: (percent: number) => number): string[] {
  if (points.length === 0) return [];
  const polyline = el('polyline', {
    points: points.map((p) => `${px(p.x)},${px(yOf(p.stat.accuracy * 100))}`).join(' '),
    fill: 'none',
    stroke: series.color,
    'stroke-width': 1.8,
    ...(series.dash ? { 'stroke-dasharray': series.dash } : {}),
  });
  const bars = points.flatMap(({ x, stat }) => {
    const top = yOf((stat.accuracy + stat.ci95) * 100);
    const bottom = yOf((stat.accuracy - stat.ci95) * 100);
    const style = { stroke: series.color, 'stroke-width': 1.2 };
    return [line(x, top, x, bottom, style), line(x - 3, top, x + 3, top, style), line(x - 3, bottom, x + 3, bottom, style)];
  });
  const marks = points.map(({ x, stat }) => marker(series.marker, x, yOf(stat.accuracy * 100), series.color));
  return [polyline, ...bars, ...marks];
}

function accuracyPanel(panel: Panel, cell: Box, shots: number[]): string[] {
  const plot: Box = { x: cell.x + 44, y: cell.y + 24, width: cell.width - 56, height: cell.height - 60 };
  const { lo, hi, step } = yRange(panel.settings);
  const clamp = (v: number) => Math.min(hi, Math.max(lo, v));
  const yOf = (p: number) => plot.y + plot.height - ((clamp(p) - lo) / (hi - lo)) * plot.height;
  const slot = plot.width / shots.length;
  const xOf = (k: number) => plot.x + slot * (shots.indexOf(k) + 0.5);
  const dodge = (i: number) => (i - (SERIES.length - 1) / 2) * 5;
  const bottom = plot.y + plot.height;
  const xTicks = shots.flatMap((k) => [line(xOf(k), bottom, xOf(k), bottom + 4, { stroke: '#333' }), text(xOf(k), bottom + 16, String(k), { 'text-anchor': 'middle' })]);
  const series = SERIES.flatMap((s, i) => {
    const points = panel.settings
      .map((setting) => ({ x: xOf(setting.shots) + dodge(i), stat: s.stat(setting) }))
      .filter((p): p is { x: number; stat: Stat } => p.stat !== null)
      .sort((a, b) => a.x - b.x);
    return seriesMarks(s, points, yOf);
  });
  return [
    text(cell.x + cell.width / 2, cell.y + 14, panel.title, { 'text-anchor': 'middle', 'font-weight': 'bold' }),
    ...yAxis(plot, lo, hi, step, (v) => String(v)),
    line(plot.x, bottom, plot.x + plot.width, bottom, { stroke: '#333' }),
    ...xTicks,
    text(plot.x + plot.width / 2, bottom + 30, 'shots', { 'text-anchor': 'middle' }),
    ...series,
  ];
}

/** The shared legend, centred on `centerX`; entry widths follow their labels (about 7 px a character). */
function legend(centerX: number, y: number): string[] {
  const widths = SERIES.map((s) => 34 + 7 * s.label.length + 24);
  let x = centerX - widths.reduce((a, b) => a + b, 0) / 2;
  return SERIES.flatMap((s, i) => {
    const style = { stroke: s.color, 'stroke-width': 1.8, ...(s.dash ? { 'stroke-dasharray': s.dash } : {}) };
    const entry = [line(x, y, x + 28, y, style), marker(s.marker, x + 14, y, s.color), text(x + 34, y + 4, s.label)];
    x += widths[i] ?? 0;
    return entry;
  });
}

/**
 * Accuracy (percent, with 95% error bars) against shots for one model: one panel per dataset and way count
 * present for that model, laid out in a grid of up to three columns, with a shared legend. Each series is
 * one `<polyline>` per panel (nothing else in the figure is a polyline or a path).
 */
export function accuracyVsShotsSvg(results: SuiteResult[], model: string): string {
  const mine = results.filter((r) => r.model === model);
  const panels = panelsOf(mine);
  const shots = [...new Set(mine.flatMap((r) => r.settings.map((s) => s.shots)))].sort((a, b) => a - b);
  const columns = Math.max(1, Math.min(3, panels.length));
  const rows = Math.max(1, Math.ceil(panels.length / columns));
  const width = 720;
  const top = 36;
  const left = 22;
  const cellWidth = (width - left - 8) / columns;
  const cellHeight = 170;
  const height = top + rows * cellHeight + 36;
  const title = `Accuracy vs shots — ${model} (mean ± 95% CI over episodes)`;
  const body = [
    text(width / 2, 22, title, { 'text-anchor': 'middle', 'font-size': 14, 'font-weight': 'bold' }),
    text(14, top + (rows * cellHeight) / 2, 'accuracy (%)', { 'text-anchor': 'middle', transform: `rotate(-90 14 ${px(top + (rows * cellHeight) / 2)})` }),
    ...panels.flatMap((panel, i) =>
      accuracyPanel(panel, { x: left + (i % columns) * cellWidth, y: top + Math.floor(i / columns) * cellHeight, width: cellWidth, height: cellHeight }, shots),
    ),
    ...legend(width / 2, height - 16),
  ];
  if (panels.length === 0) body.push(text(width / 2, height / 2, `no results for ${model}`, { 'text-anchor': 'middle' }));
  return svgDocument(width, height, title, body);
}

// --------------------------------------------------------------------------------------------- reliability

/** The reliability bins of one model pooled over every setting and dataset, and their ECE. */
export interface PooledReliability {
  bins: ReliabilityBin[];
  /** Predictions pooled. */
  total: number;
  /** Sum over bins of count / total × |accuracy − confidence|. */
  ece: number;
}

/**
 * Pools the reliability bins of every setting of `model`: counts summed per bin, confidence and accuracy
 * averaged weighted by count. All settings must use the same number of bins (the longest is taken).
 */
export function pooledReliability(results: SuiteResult[], model: string): PooledReliability {
  const all = results.filter((r) => r.model === model).flatMap((r) => r.settings.map((s) => s.reliability));
  const size = Math.max(0, ...all.map((bins) => bins.length));
  const sums = Array.from({ length: size }, () => ({ confidence: 0, accuracy: 0, count: 0 }));
  for (const bins of all) {
    bins.forEach((bin, i) => {
      const sum = sums[i] as (typeof sums)[number];
      sum.confidence += bin.confidence * bin.count;
      sum.accuracy += bin.accuracy * bin.count;
      sum.count += bin.count;
    });
  }
  const bins = sums.map((s) => (s.count ? { confidence: s.confidence / s.count, accuracy: s.accuracy / s.count, count: s.count } : { confidence: 0, accuracy: 0, count: 0 }));
  const total = bins.reduce((n, b) => n + b.count, 0);
  const ece = total ? bins.reduce((e, b) => e + (b.count / total) * Math.abs(b.accuracy - b.confidence), 0) : 0;
  return { bins, total, ece };
}

/**
 * The reliability diagram of one model: bars of accuracy per equal-width confidence bin pooled over all its
 * settings and datasets, a dot at each bin's mean confidence, the dashed diagonal of perfect calibration,
 * and the pooled ECE in the title.
 */
export function reliabilitySvg(results: SuiteResult[], model: string): string {
  const { bins, total, ece } = pooledReliability(results, model);
  const size = 420;
  const plot: Box = { x: 58, y: 56, width: 336, height: 300 };
  const xOf = (f: number) => plot.x + f * plot.width;
  const yOf = (f: number) => plot.y + plot.height - f * plot.height;
  const bottom = plot.y + plot.height;
  const title = `Reliability — ${model} (ECE ${ece.toFixed(3)})`;
  const settings = results.filter((r) => r.model === model).reduce((n, r) => n + r.settings.length, 0);
  const barsAndDots = bins.flatMap((b, i) => {
    if (b.count === 0) return [];
    const x0 = xOf(i / bins.length);
    const x1 = xOf((i + 1) / bins.length);
    return [
      el('rect', { x: x0 + 1, y: yOf(b.accuracy), width: x1 - x0 - 2, height: bottom - yOf(b.accuracy), fill: '#1f77b4', 'fill-opacity': 0.75 }),
      el('circle', { cx: xOf(b.confidence), cy: yOf(b.accuracy), r: 2.5, fill: '#333' }),
    ];
  });
  const xTicks = ticks(0, 1, 0.2).flatMap((v) => [line(xOf(v), bottom, xOf(v), bottom + 4, { stroke: '#333' }), text(xOf(v), bottom + 16, v.toFixed(1), { 'text-anchor': 'middle' })]);
  const body = [
    text(size / 2, 22, title, { 'text-anchor': 'middle', 'font-size': 14, 'font-weight': 'bold' }),
    text(size / 2, 40, `pooled over ${settings} settings, ${total} predictions, ${bins.length} bins`, { 'text-anchor': 'middle', fill: '#555' }),
    ...yAxis(plot, 0, 1, 0.2, (v) => v.toFixed(1)),
    line(plot.x, bottom, plot.x + plot.width, bottom, { stroke: '#333' }),
    ...xTicks,
    ...barsAndDots,
    line(xOf(0), yOf(0), xOf(1), yOf(1), { stroke: '#7f7f7f', 'stroke-width': 1.5, 'stroke-dasharray': '6 4' }),
    text(plot.x + plot.width / 2, bottom + 34, 'confidence', { 'text-anchor': 'middle' }),
    text(16, plot.y + plot.height / 2, 'accuracy', { 'text-anchor': 'middle', transform: `rotate(-90 16 ${px(plot.y + plot.height / 2)})` }),
    el('rect', { x: plot.x + 4, y: plot.y + 2, width: 260, height: 40, fill: 'white', 'fill-opacity': 0.85 }),
    el('rect', { x: plot.x + 10, y: plot.y + 8, width: 14, height: 10, fill: '#1f77b4', 'fill-opacity': 0.75 }),
    text(plot.x + 30, plot.y + 17, 'accuracy per bin (dot: mean confidence)'),
    line(plot.x + 10, plot.y + 30, plot.x + 24, plot.y + 30, { stroke: '#7f7f7f', 'stroke-width': 1.5, 'stroke-dasharray': '4 2' }),
    text(plot.x + 30, plot.y + 34, 'perfect calibration'),
  ];
  return svgDocument(size, size, title, body);
}

// --------------------------------------------------------------------------------------------- main

const root = join(import.meta.dirname, '..');

/** A parsed `docs/eval/*.json`, checked for the fields the report reads. */
function readResult(path: string): SuiteResult {
  const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<SuiteResult>;
  if (typeof value.model !== 'string' || !Array.isArray(value.settings)) {
    throw new Error(`${path}: not a \`fewshot eval --json\` result (needs "model" and "settings")`);
  }
  // Older results have no short dataset name: fall back to the data folder's name.
  const dataset = value.dataset ?? basename(value.data ?? path);
  return { ...value, dataset, official_runs: value.official_runs ?? null } as SuiteResult;
}

function tablesMarkdown(results: SuiteResult[]): string {
  const official = officialRunsTable(results);
  return [
    '_Generated by `npx tsx scripts/accuracy-report.ts` from `docs/eval/*.json`: edit those, not this file._',
    '',
    '### 5-way 1-shot per development domain',
    '',
    'Mean accuracy over the episodes in percent: our default head (flip averaging, power transform, centring) and',
    'the plain prototype (no flip), on the same seeded episodes for every model. Omniglot counts once, by its',
    'evaluation set (`DEV_DOMAINS` in scripts/dev-data.ts); the confidence intervals are in the next table.',
    '',
    domainTable(results, Object.keys(DEV_DOMAINS)),
    '### Accuracy per setting',
    '',
    'Accuracies are the mean over episodes ± the half-width of its 95% confidence interval, in percent;',
    '"ours − best peer" is in percentage points; the open-set rates are in percent; `–`: not measured.',
    '',
    accuracyTable(results),
    '### Omniglot official one-shot runs',
    '',
    official || '_No result has official runs._\n',
  ].join('\n');
}

/** Reads `docs/eval/*.json`, writes the figures of each model and `docs/accuracy-tables.md`. */
export function main(): void {
  const evalDir = join(root, 'docs', 'eval');
  const files = existsSync(evalDir) ? readdirSync(evalDir).filter((f) => f.endsWith('.json')).sort() : [];
  if (files.length === 0) throw new Error(`no results in ${evalDir}: run \`fewshot eval --json\` into docs/eval/<model>-<dataset>.json`);
  const results = files.map((f) => readResult(join(evalDir, f)));
  const outputs = new Map<string, string>();
  for (const model of [...new Set(results.map((r) => r.model))].sort()) {
    outputs.set(join(root, 'docs', `accuracy-vs-shots-${model}.svg`), accuracyVsShotsSvg(results, model));
    outputs.set(join(root, 'docs', `reliability-${model}.svg`), reliabilitySvg(results, model));
  }
  outputs.set(join(root, 'docs', 'accuracy-tables.md'), tablesMarkdown(results));
  for (const [path, content] of outputs) {
    writeFileSync(path, content);
    process.stderr.write(`wrote ${relative(process.cwd(), path) || path}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
