import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { maskIdNumber, maskPhone, maskResponseData, maskStreetAddress } from '../../gateway/authorization/masking.js';

describe('masking personal identifiers', () => {
  it('keeps the area prefix and the last four characters of an ID number', () => {
    expect(maskIdNumber('54010219791001921X')).toBe('5401**********921X');
  });

  it('keeps the first three and last four digits of a phone number', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
  });

  it('keeps the region and road but hides house numbers and rooms', () => {
    expect(maskStreetAddress('西藏自治区拉萨市城关区北京中路28号雪域花园3栋2单元502室')).toBe('西藏自治区拉萨市城关区北京中路****');
  });

  it('masks by schema coordinate, under aliases and in lists, and a driving licence number that is an ID number', () => {
    const schema = buildSchema(`
      type Query { persons: [Person] }
      type Person { idNumber: ID! name: String licences: [Licence!] }
      type Licence { number: String! }
    `);
    const document = parse('{ persons { id: idNumber name licences { number } } }');
    const data = {
      persons: [{ id: '540102197910019217', name: '扎西次仁', licences: [{ number: '540102197910019217' }, { number: '91540102900000014B' }] }, null],
    };
    maskResponseData(schema, document, data);
    expect(data.persons[0]).toEqual({
      id: '5401**********9217',
      name: '扎西次仁',
      licences: [{ number: '5401**********9217' }, { number: '91540102900000014B' }],
    });
  });
});
