/**
 * Turns the leave-one-domain-out results (`docs/lodo/<model>.json`, from scripts/lodo.ts) into
 * `docs/lodo-tables.md` (per domain left out: accuracy, ECE, "unknown") and `docs/unknown-tradeoff-<model>.svg`
 * (strangers caught against false "unknown" per domain left out, as the threshold constant moves).
 *
 *   npx tsx scripts/lodo-report.ts
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { el, line, markdownTable, percent, svgDocument, text } from './accuracy-report.js';
import type { LodoResult as Lodo, LodoSetting as Setting } from './lodo.js';

const DASH = '–';
const ECE_SETTINGS = [2, 5, 20].flatMap((ways) => [1, 5].map((shots) => ({ ways, shots })));
const find = (settings: Setting[], ways: number, shots: number) => settings.find((s) => s.ways === ways && s.shots === shots);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One model's table: a row per domain left out, then the mean over domains (of the settings each has). */
export function lodoTable(lodo: Lodo): string {
  const cells = (settings: Setting[]) => {
    const at = (w: number, s: number) => find(settings, w, s);
    const acc = (w: number, s: number) => (at(w, s) ? `${percent(at(w, s)!.accuracy)} / ${percent(at(w, s)!.plain)}` : DASH);
    const unknown = (w: number, s: number) => (at(w, s)?.curve.length ? `${percent(at(w, s)!.caught)} (${percent(at(w, s)!.falseUnknown)})` : DASH);
    return [acc(5, 1), acc(5, 5), ...ECE_SETTINGS.map(({ ways, shots }) => (at(ways, shots) ? at(ways, shots)!.ece.toFixed(3) : DASH)), unknown(5, 1), unknown(5, 5)];
  };
  const rows = lodo.held_out.map((d) => [d.domain, ...cells(d.settings)]);
  const pooled = (ways: number, shots: number, key: 'accuracy' | 'plain' | 'ece' | 'falseUnknown' | 'caught') => {
    const values = lodo.held_out.map((d) => find(d.settings, ways, shots)).filter((s): s is Setting => s !== undefined && (key !== 'caught' && key !== 'falseUnknown' || s.curve.length > 0));
    return values.length ? mean(values.map((s) => s[key])) : NaN;
  };
  const meanAcc = (w: number, s: number) => `${percent(pooled(w, s, 'accuracy'))} / ${percent(pooled(w, s, 'plain'))}`;
  rows.push([
    'mean',
    meanAcc(5, 1),
    meanAcc(5, 5),
    ...ECE_SETTINGS.map(({ ways, shots }) => (Number.isNaN(pooled(ways, shots, 'ece')) ? DASH : pooled(ways, shots, 'ece').toFixed(3))),
    `${percent(pooled(5, 1, 'caught'))} (${percent(pooled(5, 1, 'falseUnknown'))})`,
    `${percent(pooled(5, 5, 'caught'))} (${percent(pooled(5, 5, 'falseUnknown'))})`,
  ]);
  const header = ['domain left out', '5w1s ours / plain', '5w5s ours / plain', ...ECE_SETTINGS.map(({ ways, shots }) => `ECE ${ways}w${shots}s`), 'unknown 5w1s', 'unknown 5w5s'];
  return markdownTable(header, ['l', ...header.slice(1).map((): 'r' => 'r')], rows);
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** Two panels (5-way 1-shot and 5-shot): strangers caught against false "unknown", one line per domain left out. */
export function tradeOffSvg(lodo: Lodo): string {
  const panel = 300;
  const margin = { left: 50, top: 40, bottom: 45, gap: 40 };
  const width = margin.left + 2 * panel + margin.gap + 170;
  const height = margin.top + panel + margin.bottom;
  const body: string[] = [text(width / 2, 20, `${lodo.model}: "unknown" on the domain left out`, { 'text-anchor': 'middle', 'font-weight': 'bold' })];
  [1, 5].forEach((shots, p) => {
    const x0 = margin.left + p * (panel + margin.gap);
    const y0 = margin.top;
    const x = (f: number) => x0 + (Math.min(f, 0.5) / 0.5) * panel;
    const y = (c: number) => y0 + panel - c * panel;
    body.push(el('rect', { x: x0, y: y0, width: panel, height: panel, fill: 'none', stroke: '#999' }));
    body.push(text(x0 + panel / 2, y0 - 6, `5-way ${shots}-shot`, { 'text-anchor': 'middle' }));
    for (const t of [0, 0.1, 0.2, 0.3, 0.4, 0.5]) body.push(text(x(t), y0 + panel + 15, percent(t).replace('.0', '') + '%', { 'text-anchor': 'middle', 'font-size': 10 }));
    for (const t of [0, 0.25, 0.5, 0.75, 1]) body.push(text(x0 - 5, y(t) + 4, `${t * 100}%`, { 'text-anchor': 'end', 'font-size': 10 }));
    body.push(text(x0 + panel / 2, y0 + panel + 32, 'known-class queries answered "unknown"', { 'text-anchor': 'middle', 'font-size': 11 }));
    body.push(line(x(lodo.budget), y0, x(lodo.budget), y0 + panel, { stroke: '#aaa', 'stroke-dasharray': '4 3' }));
    body.push(line(x0, y(0.5), x0 + panel, y(0.5), { stroke: '#aaa', 'stroke-dasharray': '4 3' }));
    lodo.held_out.forEach((d, i) => {
      const s = find(d.settings, 5, shots);
      if (!s?.curve.length) return;
      const color = COLORS[i % COLORS.length] as string;
      const points = s.curve.filter(([f]) => f <= 0.5).map(([f, c]) => `${x(f).toFixed(1)},${y(c).toFixed(1)}`).join(' ');
      body.push(el('polyline', { points, fill: 'none', stroke: color, 'stroke-width': 1.5 }));
      body.push(el('circle', { cx: x(s.falseUnknown), cy: y(s.caught), r: 4, fill: color }));
    });
  });
  lodo.held_out.forEach((d, i) => {
    const lx = margin.left + 2 * panel + margin.gap + 15;
    const ly = margin.top + 12 + i * 18;
    body.push(line(lx, ly - 4, lx + 18, ly - 4, { stroke: COLORS[i % COLORS.length] as string, 'stroke-width': 2 }));
    body.push(text(lx + 24, ly, d.domain, { 'font-size': 11 }));
  });
  body.push(text(margin.left + 2 * panel + margin.gap + 15, margin.top + 20 + lodo.held_out.length * 18, 'dot: the default', { 'font-size': 11 }));
  body.push(text(margin.left - 40, margin.top + panel / 2, 'strangers caught', { transform: `rotate(-90 ${margin.left - 40} ${margin.top + panel / 2})`, 'text-anchor': 'middle', 'font-size': 11 }));
  return svgDocument(width, height, `${lodo.model}: unknown trade-off, leave one domain out`, body);
}

function main(): void {
  const root = join(import.meta.dirname, '..');
  const dir = join(root, 'docs', 'lodo');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  if (files.length === 0) throw new Error(`no results in ${dir}: run npx tsx scripts/lodo.ts first`);
  const results = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Lodo);
  const sections = results.map((r) => {
    writeFileSync(join(root, 'docs', `unknown-tradeoff-${r.model}.svg`), tradeOffSvg(r));
    const c = r.constants;
    return [
      `### ${r.model}`,
      '',
      `Constants fitted on all seven domains (src/models.ts): power ${c.power}, centring prior ${c.centringPrior} (mean 5-way 1-shot accuracy over the seven for each candidate power / prior: ${r.priors.map((p) => `${p.power} / ${p.prior}: ${percent(p.accuracy_5w1s)}%`).join(', ')}), temperature ${c.temperature}, growth ${c.temperatureGrowth}, calibration weight ${c.calibrationWeight}, unknown threshold ${c.unknownThreshold}, spread ${c.unknownSpread}.`,
      '',
      lodoTable(r),
    ].join('\n');
  });
  writeFileSync(
    join(root, 'docs', 'lodo-tables.md'),
    [
      '_Generated by `npx tsx scripts/lodo-report.ts` from `docs/lodo/*.json` (scripts/lodo.ts): edit those, not this file._',
      '',
      'Each row is one domain left out: the constants were fitted on the other six, then measured on it.',
      'Accuracy in percent (ours / plain prototype); ECE over known-class queries; "unknown": strangers caught',
      '(known-class queries answered "unknown"), in percent, where the domain has classes to spare.',
      '',
      ...sections,
    ].join('\n'),
  );
  process.stderr.write('wrote docs/lodo-tables.md and docs/unknown-tradeoff-*.svg\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
