import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { auditRecordsOf } from '../support/audit-records.js';
import { removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';

const PERSON = DEMO_PERSONS[0];
const NAME = 'query Name($id: ID!) { person(idNumber: $id) { name } }';

let dataDir: string;
let federation: TestFederation;
let store: AuditStore;

beforeAll(async () => {
  dataDir = await seedTemporaryData(60);
  federation = await startTestFederation({ dataDir });
  store = await openAuditStore({ dataDir });
});

afterAll(async () => {
  await store?.close();
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

/** Asks for a name under the default matter with `caseNumber` in x-case-number, percent-encoded as header values must be. */
async function askWithCaseNumber(caseNumber: string) {
  const response = await federation.query(NAME, { id: PERSON.idNumber }, { 'x-case-number': encodeURIComponent(caseNumber) });
  const records = await auditRecordsOf(store, response.headers.get('x-request-id')!);
  return { ...response, records };
}

describe('case numbers (x-case-number)', () => {
  describe('when one holds a personal identifier', () => {
    it.each([
      ['a citizen ID number', '湘社保〔2026〕430102199001011234号', '430102199001011234'],
      ['an ID number whose check character is wrong', '湘社保〔2026〕430102199001011230号', '430102199001011230'],
      ['an ID number ending in X', '藏人社-11010519491231002X', '11010519491231002'],
      ['a first-generation ID number (15 digits)', '湘社保〔2026〕430102900101123号', '430102900101123'],
      ['a mobile phone number', '藏人社引进2026-13812345678', '13812345678'],
      ['a mobile phone number in full-width digits', '藏人社引进２０２６-１３８１２３４５６７８', '１３８１２３４５６７８'],
      ['a unified social credit code', '湘市监〔2026〕91350100M000100Y43号', '91350100M000100Y43'],
    ])('refuses %s with 400 CASE_NUMBER_INVALID, and audits the refusal without the number', async (_case, caseNumber, identifier) => {
      const { status, body, records } = await askWithCaseNumber(caseNumber);
      expect(status).toBe(400);
      expect(body.errors!.map((e) => e.extensions!.code)).toEqual(['CASE_NUMBER_INVALID']);
      expect(body.data).toBeUndefined();
      expect(JSON.stringify(body)).not.toContain(identifier);

      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ outcome: 'DENIED', httpStatus: 400, errorCodes: ['CASE_NUMBER_INVALID'], caseNumber: null, disclosed: [] });
      expect(records[0].caller).not.toBeNull();
      for (const text of [identifier, caseNumber, encodeURIComponent(caseNumber)]) expect(JSON.stringify(records[0])).not.toContain(text);
    });
  });

  describe('when it is an ordinary case number', () => {
    it.each([
      ['with CJK and brackets', '湘社保〔2026〕0012号'],
      ['from the tour', '藏人社引进2026-031'],
      ['whose long serial is written with separators', 'LS-2026-1201-5401-0012'],
    ])('passes one %s, recorded as sent', async (_case, caseNumber) => {
      const { status, body, records } = await askWithCaseNumber(caseNumber);
      expect([status, body.errors]).toEqual([200, undefined]);
      expect(body.data!.person.name).toBe(PERSON.name);
      expect(records.map((r) => [r.outcome, r.caseNumber])).toEqual([['ALLOWED', caseNumber]]);
    });
  });
});
