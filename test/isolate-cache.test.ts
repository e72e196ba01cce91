import { describe, expect, it } from 'vitest';
import { IsolateCache } from '../workers/isolate-cache.js';

describe('IsolateCache', () => {
  it('keeps its total weight under the bound, evicting the least recently used entries first', () => {
    const cache = new IsolateCache<string>(10, (v) => v.length);
    cache.set('a', 'aaaa');
    cache.set('b', 'bbbb');
    expect(cache.get('a')).toBe('aaaa'); // a is now more recent than b
    cache.set('c', 'cccc'); // 12 > 10: the least recently used (b) goes
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('aaaa');
    expect(cache.get('c')).toBe('cccc');
  });

  it('replaces an entry of the same key with its new weight, and never keeps one heavier than the bound', () => {
    const cache = new IsolateCache<string>(10, (v) => v.length);
    cache.set('a', 'aaaaaaaa');
    cache.set('a', 'aa'); // 2, not 10: room for another 8
    cache.set('b', 'bbbbbbbb');
    expect([cache.get('a'), cache.get('b')]).toEqual(['aa', 'bbbbbbbb']);
    cache.set('huge', 'x'.repeat(11));
    expect(cache.get('huge')).toBeUndefined();
    expect([cache.get('a'), cache.get('b')]).toEqual(['aa', 'bbbbbbbb']);
  });
});
