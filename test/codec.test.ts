import { describe, expect, it } from 'vitest';
import { decodeExamples, encodeExamples, type StoredExample } from '../src/codec.js';
import { normalizeLabel } from '../src/labels.js';
import { codeOf } from './errors.js';

function example(id: string, label: string, dim = 256, fill = (i: number) => Math.sin(i + id.length)): StoredExample {
  return { id, label, model: 'mobilenet_v1_025', embedding: Float32Array.from({ length: dim }, (_, i) => fill(i)), createdAt: 1700000000000 };
}

describe('examples codec', () => {
  it('round-trips exactly, through JSON text too', () => {
    const examples = [example('a1', 'okapi'), example('b_2', 'constructor', 256, (i) => (i % 2 ? -1e-30 : 3.4e38))];
    const doc = encodeExamples('mobilenet_v1_025', examples);
    expect(doc).toMatchObject({ format: 'fewshot-edge/examples', version: 1, model: 'mobilenet_v1_025', dim: 256 });
    for (const input of [doc, JSON.stringify(doc)]) {
      const back = decodeExamples(input, 'mobilenet_v1_025');
      expect(back).toHaveLength(2);
      back.forEach((e, i) => {
        expect(e.id).toBe(examples[i]!.id);
        expect(e.label).toBe(examples[i]!.label);
        expect(e.model).toBe('mobilenet_v1_025');
        expect(Array.from(e.embedding)).toEqual(Array.from(examples[i]!.embedding));
      });
    }
  });

  it('is compact: about 1.33 bytes of JSON per embedding byte', () => {
    const text = JSON.stringify(encodeExamples('mobilenet_v1_025', [example('a', 'x')]));
    expect(text.length).toBeLessThan(256 * 4 * 1.34 + 200);
  });

  it('refuses to mix models, naming both', () => {
    const doc = encodeExamples('mobilenet_v1_025', [example('a', 'x')]);
    expect(codeOf(() => decodeExamples(doc, 'mobilenet_v2_100'))).toBe('MODEL_MISMATCH');
    expect(codeOf(() => encodeExamples('mobilenet_v2_100', [example('a', 'x')]))).toBe('MODEL_MISMATCH');
  });

  it('rejects every kind of malformed document with INVALID_FORMAT', () => {
    const good = encodeExamples('mobilenet_v1_025', [example('a', 'x')]);
    const entry = good.examples[0]!;
    const bad: unknown[] = [
      'not json',
      null,
      [],
      { ...good, format: 'something-else' },
      { ...good, version: 2 },
      { ...good, version: '1' },
      { ...good, model: 'resnet' },
      { ...good, dim: 1280 },
      { ...good, examples: 'nope' },
      { ...good, examples: [{ ...entry, embedding: 'AAAA' }] }, // 1 value instead of 256
      { ...good, examples: [{ ...entry, embedding: '%%%' }] },
      { ...good, examples: [{ ...entry, embedding: encodeExamples('mobilenet_v1_025', [example('n', 'x', 256, () => Number.NaN)]).examples[0]!.embedding }] },
      { ...good, examples: [entry, entry] }, // duplicate id
      { ...good, examples: [{ ...entry, id: '../../etc/passwd' }] },
      { ...good, examples: [{ ...entry, label: '' }] },
      { ...good, examples: [{ ...entry, label: 'x'.repeat(10_000) }] },
      { ...good, examples: [{ ...entry, label: 42 }] },
    ];
    for (const doc of bad) expect(codeOf(() => decodeExamples(doc)), JSON.stringify(doc)?.slice(0, 80)).toBe('INVALID_FORMAT');
  });
});

describe('labels', () => {
  it('normalises to NFC without surrounding space and keeps hostile-looking names as plain text', () => {
    expect(normalizeLabel('  okapi ')).toBe('okapi');
    expect(normalizeLabel('Cafe\u0301')).toBe('Café');
    expect(normalizeLabel('constructor')).toBe('constructor');
    expect(normalizeLabel('<script>alert(1)</script>')).toBe('<script>alert(1)</script>');
    expect(normalizeLabel('日本語のラベル')).toBe('日本語のラベル');
    expect(normalizeLabel('x'.repeat(100))).toHaveLength(100);
  });

  it('rejects non-strings, empty, over-long and control-character labels with INVALID_LABEL', () => {
    for (const label of [undefined, null, 3, {}, ['a'], '', '   ', 'x'.repeat(101), 'a\u0000b', 'line\nbreak', 'bell\u0007', 'rtl\u202Eoverride', 'zero\u200Bwidth', '__proto__', ' __proto__ ']) {
      expect(codeOf(() => normalizeLabel(label)), JSON.stringify(label)).toBe('INVALID_LABEL');
    }
  });
});
