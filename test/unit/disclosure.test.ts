import { describe, expect, it } from 'vitest';
import { disclosureReport, readDisclosureReport, type DisclosureLog } from '../../common/disclosure.js';

describe('the disclosure report (subgraph → gateway)', () => {
  const log: DisclosureLog = new Map([
    ['Person:110101199003071234', { type: 'Person', key: '110101199003071234' }],
    ['Organisation:91110000100000000X', { type: 'Organisation', key: '91110000100000000X' }],
    ['Person:540102198801011237', { type: 'Person', key: '540102198801011237' }],
  ]);

  it('carries the keys of each type as one list of strings', () => {
    expect(disclosureReport(log)).toEqual({ Person: ['110101199003071234', '540102198801011237'], Organisation: ['91110000100000000X'] });
    expect(disclosureReport(new Map())).toEqual({});
  });

  it('is read back by the gateway as it was written, through JSON', () => {
    expect(readDisclosureReport(JSON.parse(JSON.stringify(disclosureReport(log))))).toEqual([
      { type: 'Person', keys: ['110101199003071234', '540102198801011237'] },
      { type: 'Organisation', keys: ['91110000100000000X'] },
    ]);
  });

  it('reads the form subgraphs sent before, one { type, key } per subject', () => {
    expect(readDisclosureReport([...log.values()])).toEqual([
      { type: 'Person', keys: ['110101199003071234', '540102198801011237'] },
      { type: 'Organisation', keys: ['91110000100000000X'] },
    ]);
  });

  it('skips entries that are not strings, and reads anything else as nothing disclosed', () => {
    expect(readDisclosureReport({ Person: ['110101199003071234', 7, null, { key: 'x' }], Organisation: 'not a list' })).toEqual([
      { type: 'Person', keys: ['110101199003071234'] },
    ]);
    expect(
      readDisclosureReport([{ type: 'Person' }, null, 'Person:1', { type: 'Person', key: 5 }, { type: 'Person', key: '110101199003071234' }]),
    ).toEqual([{ type: 'Person', keys: ['110101199003071234'] }]);
    for (const nothing of [null, undefined, 'Person', 42, true]) expect(readDisclosureReport(nothing)).toEqual([]);
  });
});
