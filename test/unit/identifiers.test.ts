import { describe, expect, it } from 'vitest';
import {
  checkCreditCode,
  checkIdNumber,
  creditCodeCheckChar,
  idNumberCheckChar,
  idNumberFacts,
  personalIdentifierIn,
} from '../../common/identifiers.js';

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

describe('personal identifiers in free text (personalIdentifierIn)', () => {
  describe('when the text holds one', () => {
    it.each([
      ['a valid 18-character ID number', '湘社保〔2026〕11010519491231002X号', 'ID_NUMBER'],
      ['an 18-character ID number with a wrong check character', '湘社保〔2026〕110105194912310021号', 'ID_NUMBER'],
      ['an ID number with a lower-case x', 'LS-11010519491231002x', 'ID_NUMBER'],
      ['a first-generation ID number (15 digits)', '藏人社430102900101123', 'ID_NUMBER'],
      ['an ID number in full-width digits', '湘社保１１０１０５１９４９１２３１００２Ｘ', 'ID_NUMBER'],
      ['a mobile number', '藏人社引进13812345678', 'MOBILE_NUMBER'],
      ['a mobile number after the country code', 'LS-8619912345678', 'MOBILE_NUMBER'],
      ['a credit code', '湘市监〔2026〕91350100M000100Y43号', 'CREDIT_CODE'],
      ['a credit code in lower case', 'sc-91350100m000100y43', 'CREDIT_CODE'],
      ['a credit code inside a longer run of letters and digits', 'SC91350100M000100Y43A', 'CREDIT_CODE'],
    ])('finds %s', (_case, text, kind) => {
      expect(personalIdentifierIn(text)).toBe(kind);
    });
  });

  describe('when it holds none', () => {
    it.each([
      ['a case number of the tour', '藏人社引进2026-031'],
      ['one with brackets', '（2026）藏人社转字第0012号'],
      ['a long serial with separators', 'LS-2026-1201-5401-0012'],
      ['14 digits in a row, no mobile number among them', '湘社保20261201000123'],
      ['a mobile-like number of 10 digits', 'LS-1381234567'],
      ['18 letters and digits that fail the credit-code check', '91350100M000100Y44'],
      ['a mobile number split up (not caught: deliberately out of reach)', '138-1234-5678'],
    ])('finds nothing in %s', (_case, text) => {
      expect(personalIdentifierIn(text)).toBeNull();
    });
  });
});
