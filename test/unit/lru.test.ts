import { describe, expect, it } from 'vitest';
import { Lru } from '../../gateway/execution/lru.js';

describe('Lru', () => {
  it('evicts the least recently used entry beyond its size', () => {
    const lru = new Lru<number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1); // a is now the most recent
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    expect(lru.entries).toBe(2);
  });

  it('keeps the summed weight within its budget, oldest out first', () => {
    const lru = new Lru<string>(100, 10);
    lru.set('a', 'x', 4);
    lru.set('b', 'y', 4);
    lru.set('c', 'z', 4); // 12 > 10: a goes
    expect(lru.get('a')).toBeUndefined();
    expect(lru.get('b')).toBe('y');
    expect(lru.get('c')).toBe('z');
    lru.set('d', 'w', 6); // 4 + 4 + 6 = 14: b (least recent) goes, 10 left
    expect(lru.get('b')).toBeUndefined();
    expect(lru.entries).toBe(2);
  });

  it('never caches an entry heavier than the whole budget, and counts a replaced entry once', () => {
    const lru = new Lru<string>(100, 10);
    lru.set('big', 'x', 11);
    expect(lru.get('big')).toBeUndefined();
    lru.set('a', 'x', 6);
    lru.set('a', 'y', 6); // replaces: weight 6, not 12
    lru.set('b', 'z', 4);
    expect(lru.get('a')).toBe('y');
    expect(lru.get('b')).toBe('z');
    lru.clear();
    expect(lru.entries).toBe(0);
    lru.set('c', 'v', 10); // the budget is whole again after clear()
    expect(lru.get('c')).toBe('v');
  });
});
