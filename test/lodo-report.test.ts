import { describe, expect, it } from 'vitest';
import { lodoTable, tradeOffSvg } from '../scripts/lodo-report.js';
import type { LodoResult, LodoSetting } from '../scripts/lodo.js';

const setting = (ways: number, shots: number, accuracy: number, extra: Partial<LodoSetting> = {}): LodoSetting => ({
  ways, shots, accuracy, plain: accuracy - 0.02, ece: 0.04, falseUnknown: 0.05, caught: 0.5, curve: [[0, 0], [0.05, 0.5], [1, 1]], ...extra,
});
const constants = { power: 0.5, centringPrior: 20, temperature: 0.1, temperatureGrowth: 0, calibrationWeight: 1, unknownThreshold: 0.05, unknownSpread: 1 };
const result = (shift = 0): LodoResult => ({
  model: 'm', episodes: 10, queries: 10, budget: 0.1, constants, priors: [],
  held_out: [
    { domain: 'a', constants, settings: [setting(5, 1, 0.6 + shift), setting(5, 5, 0.8 + shift), setting(20, 1, 0.4, { ece: 0.2 })] },
    // A domain without strangers (too few classes) and without 20-way.
    { domain: 'b', constants, settings: [setting(5, 1, 0.4 + shift, { curve: [] }), setting(5, 5, 0.6 + shift, { curve: [] })] },
  ],
});

describe('leave-one-domain-out report', () => {
  it('one row per domain left out, a dash where a setting is missing, and means over the domains that have it', () => {
    const rows = lodoTable(result()).trim().split('\n');
    expect(rows).toHaveLength(5);
    expect(rows[2]).toBe('| a | 60.0 / 58.0 | 80.0 / 78.0 | – | – | 0.040 | 0.040 | 0.200 | – | 50.0 (5.0) | 50.0 (5.0) |');
    expect(rows[3]).toContain('| b | 40.0 / 38.0 | 60.0 / 58.0 |');
    expect(rows[3]).toMatch(/\| – \| – \|$/); // no strangers: no "unknown" figures
    expect(rows[4]).toBe('| mean | 50.0 / 48.0 | 70.0 / 68.0 | – | – | 0.040 | 0.040 | 0.200 | – | 50.0 (5.0) | 50.0 (5.0) |');
  });

  it('draws a curve and the default point per domain that has strangers', () => {
    const svg = tradeOffSvg(result());
    expect(svg.match(/<polyline/g)).toHaveLength(2); // domain a, in the 1-shot and 5-shot panels
    expect(svg).toContain('5-way 1-shot');
  });
});
