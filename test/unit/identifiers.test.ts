import { describe, expect, it } from 'vitest';
import { checkCreditCode, checkIdNumber, creditCodeCheckChar, idNumberCheckChar, idNumberFacts } from '../../common/identifiers.js';

describe('citizen ID numbers (GB 11643)', () => {
  it('computes the ISO 7064 MOD 11-2 check character of the DOMAIN.md example', () => {
    expect(idNumberCheckChar('11010519491231002')).toBe('X');
  });

  it('accepts a valid number and normalises a lower-case x', () => {
    expect(checkIdNumber('11010519491231002X')).toEqual({ valid: true, value: '11010519491231002X' });
    expect(checkIdNumber('11010519491231002x')).toEqual({ valid: true, value: '11010519491231002X' });
  });

  it('accepts a historical area code that is not in today’s list', () => {
    const first17 = '43210119800101001';
    expect(checkIdNumber(first17 + idNumberCheckChar(first17)).valid).toBe(true);
  });

  describe('when the number is malformed', () => {
    it.each([
      ['too short', '1101051949123100', /18 characters/],
      ['letters inside', '1101051949A231002X', /17 digits/],
      ['impossible date', '110105194902300026', /impossible birth date/],
      ['future date', '110105209901010010', /future/],
      ['wrong check character', '110105194912310021', /check character/],
    ])('rejects %s with a reason', (_case, input, reason) => {
      const result = checkIdNumber(input);
      expect(result.valid).toBe(false);
      if (!result.valid) expect(result.reason).toMatch(reason);
    });
  });

  it('reads birth date, sex and area out of a valid number', () => {
    expect(idNumberFacts('11010519491231002X')).toEqual({ areaCode: '110105', birthDate: '1949-12-31', sex: 'FEMALE' });
  });
});

describe('unified social credit codes (GB 32100)', () => {
  it('computes the check character of the DOMAIN.md example', () => {
    expect(creditCodeCheckChar('91350100M000100Y4')).toBe('3');
    expect(checkCreditCode('91350100M000100Y43')).toEqual({ valid: true, value: '91350100M000100Y43' });
  });

  it('maps a computed 31 to the character 0', () => {
    // Search a code whose sum is ≡ 0 mod 31 to exercise the 31 → 0 rule.
    let found: string | undefined;
    for (let n = 0; n < 10_000 && !found; n++) {
      const first17 = `91430100${String(n).padStart(9, '0')}`;
      if (creditCodeCheckChar(first17) === '0') found = first17;
    }
    expect(found).toBeDefined();
    expect(checkCreditCode(`${found}0`).valid).toBe(true);
  });

  describe('when the code is malformed', () => {
    it.each([
      ['too long', '91350100M000100Y431', /18 characters/],
      ['a forbidden letter', '91350100M000100S43', /character set/],
      ['wrong check character', '91350100M000100Y44', /check character/],
    ])('rejects %s with a reason', (_case, input, reason) => {
      const result = checkCreditCode(input);
      expect(result.valid).toBe(false);
      if (!result.valid) expect(result.reason).toMatch(reason);
    });
  });
});
