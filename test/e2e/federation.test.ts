import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFileOf, SUBGRAPH_NAMES } from '../../subgraphs/catalog.js';
import { openDatabase } from '../../subgraphs/shared/database.js';
import { DEMO_ORGANISATIONS, DEMO_PERSONS } from '../../scripts/seed/index.js';
import { maskIdNumber } from '../../gateway/authorization/masking.js';
import { removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';
import { FULL_DOSSIER } from '../support/queries.js';

const BATCH = /* GraphQL */ `
  query Batch($ids: [ID!]!) {
    persons(idNumbers: $ids) {
      idNumber name
      registration { address { full } household { members { person { name } } } }
      migrations { direction }
      socialInsurance { enrolments { insuranceType status employer { name } } contributionMonths }
      providentFundAccounts { status balance deposits(last: 3) { month amount } }
      credit { dishonestJudgmentDebtor records { title } }
      licences { type status history { kind } }
    }
  }
`;

const ORGANISATION = /* GraphQL */ `
  query Organisation($code: ID!) {
    organisation(creditCode: $code) {
      creditCode name entityType legalRepresentative registeredCapital establishedOn address status
      region { fullName }
      businessLicence { number status issuer { name } history { kind note } }
      socialInsuranceEmployer { employerNumber insuredHeadcount agency { name } }
      providentFundEmployer { accountNumber depositingHeadcount }
      credit { abnormalOperation dishonestJudgmentDebtor records { category status title } }
    }
  }
`;

let dataDir: string;
let federation: TestFederation;

beforeAll(async () => {
  dataDir = await seedTemporaryData(600);
  federation = await startTestFederation({ dataDir });
});

afterAll(async () => {
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

function activePersonIds(count: number): string[] {
  const db = openDatabase(databaseFileOf(dataDir, 'household'), { readonly: true });
  try {
    return db
      .prepare<[number], { id_number: string }>("SELECT id_number FROM persons WHERE registration_status = 'ACTIVE' ORDER BY id_number LIMIT ?")
      .all(count)
      .map((r) => r.id_number);
  } finally {
    db.close();
  }
}

describe('the federated person query', () => {
  it('returns one person’s records from all five domains in one response', async () => {
    const demo = DEMO_PERSONS[0];
    const { status, body } = await federation.query(FULL_DOSSIER, { id: demo.idNumber });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const person = body.data!.person;
    // Masked by default: this caller's matter does not grant pii:unmasked.
    expect(person.idNumber).toBe(maskIdNumber(demo.idNumber));
    expect(person.name).toBe(demo.name);
    expect(person.registration.household.members.length).toBeGreaterThan(0);
    expect(person.socialInsurance.enrolments.length).toBeGreaterThan(0);
    expect(person.socialInsurance.contributions.length).toBeGreaterThan(0);
    expect(person.socialInsurance.contributionMonths).toBeGreaterThan(0);
    expect(Array.isArray(person.providentFundAccounts)).toBe(true);
    expect(person.credit).not.toBeNull();
    expect(Array.isArray(person.licences)).toBe(true);
  });

  it('resolves employers across domains (social insurance → licence register)', async () => {
    const { body } = await federation.query(FULL_DOSSIER, { id: DEMO_PERSONS[0].idNumber });
    const employed = body.data!.person.socialInsurance.enrolments.filter((e: any) => e.category === 'EMPLOYEE');
    expect(employed.length).toBeGreaterThan(0);
    for (const enrolment of employed) expect(enrolment.employer.name).toEqual(expect.any(String));
  });

  it('answers null without an error for a valid but unknown ID number', async () => {
    const { status, body } = await federation.query(FULL_DOSSIER, { id: '11010519491231002X' });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data!.person).toBeNull();
  });
});

describe('the federated organisation query', () => {
  it('returns the business licence and credit records of every demo organisation', async () => {
    for (const demo of DEMO_ORGANISATIONS) {
      const { body } = await federation.query(ORGANISATION, { code: demo.creditCode });
      expect(body.errors).toBeUndefined();
      const organisation = body.data!.organisation;
      expect(organisation.name).toBe(demo.name);
      expect(organisation.credit).not.toBeNull();
      expect(Array.isArray(organisation.credit.records)).toBe(true);
    }
  });

  it('includes a valid business licence whose number is the credit code for an active organisation', async () => {
    const results = await Promise.all(DEMO_ORGANISATIONS.map((d) => federation.query(ORGANISATION, { code: d.creditCode })));
    const active = results.map((r) => r.body.data!.organisation).filter((o) => o.status === 'ACTIVE');
    expect(active.length).toBeGreaterThan(0);
    for (const organisation of active) {
      expect(organisation.businessLicence.number).toBe(organisation.creditCode);
      expect(organisation.businessLicence.status).toBe('VALID');
    }
  });
});

describe('a batch of 50 persons', () => {
  it('costs each subgraph a constant number of SQL statements, not one per person (no N+1)', async () => {
    const one = activePersonIds(1);
    const fifty = activePersonIds(50);
    expect(fifty).toHaveLength(50);

    federation.resetStatements();
    const single = await federation.query(BATCH, { ids: one });
    expect(single.body.errors).toBeUndefined();
    const perSubgraphForOne = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, federation.statements[n].length]));

    federation.resetStatements();
    const batch = await federation.query(BATCH, { ids: fifty });
    expect(batch.body.errors).toBeUndefined();
    expect(batch.body.data!.persons).toHaveLength(50);
    expect(batch.body.data!.persons.every((p: any) => p !== null)).toBe(true);

    for (const name of SUBGRAPH_NAMES) {
      const count = federation.statements[name].length;
      // Each loader is one statement per batch: a few per subgraph whatever the batch size.
      expect(count, `${name} ran ${count} statements`).toBeLessThanOrEqual(8);
      expect(count, `${name}: 50 persons vs 1`).toBeLessThanOrEqual(perSubgraphForOne[name] + 2);
    }
  });

  it('keeps the order asked and answers null for unknown persons', async () => {
    const [a, b] = activePersonIds(2);
    const { body } = await federation.query(BATCH, { ids: [b, '11010519491231002X', a] });
    expect(body.errors).toBeUndefined();
    expect(body.data!.persons.map((p: any) => p?.idNumber ?? null)).toEqual([maskIdNumber(b), null, maskIdNumber(a)]);
  });
});

describe('bad input', () => {
  it('rejects an ID number with a wrong check character with BAD_USER_INPUT and says why', async () => {
    const { status, body } = await federation.query(FULL_DOSSIER, { id: '110105194912310021' });
    expect(status).toBe(200);
    expect(body.data!.person).toBeNull();
    expect(body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    expect(body.errors![0].message).toMatch(/check character/);
  });

  it.each([
    ['a short ID number', '1101051949'],
    ['letters in an ID number', 'ABCDEFGHIJKLMNOPQR'],
    ['an impossible birth date', '110105194913310021'],
    ['an empty string', ''],
    ['SQL', "1' OR '1'='1"],
  ])('rejects %s with BAD_USER_INPUT', async (_case, id) => {
    const { body } = await federation.query(FULL_DOSSIER, { id });
    expect(body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
  });

  it('rejects a credit code with a forbidden character or wrong check with BAD_USER_INPUT', async () => {
    for (const code of ['91350100M000100Y44', '91350100M000100S43', 'short']) {
      const { body } = await federation.query(ORGANISATION, { code });
      expect(body.data!.organisation).toBeNull();
      expect(body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    }
  });

  it('rejects a batch of more than 100 ID numbers', async () => {
    // Names only: within the gateway's cost limit, so the household domain's own cap answers.
    const { body } = await federation.query('query($ids: [ID!]!) { persons(idNumbers: $ids) { name } }', {
      ids: Array(101).fill('11010519491231002X'),
    });
    expect(body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
  });

  it('names the bad element of a batch', async () => {
    const [a] = activePersonIds(1);
    const { body } = await federation.query(BATCH, { ids: [a, 'nonsense'] });
    expect(body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    expect(body.errors![0].extensions!.argument).toBe('idNumbers[1]');
  });

  it('rejects a variable of the wrong type before any subgraph is asked', async () => {
    const { status, body } = await federation.query(FULL_DOSSIER, { id: { nested: true } }, { accept: 'application/graphql-response+json' });
    expect(status).toBe(400);
    expect(body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
  });

  it('answers a syntax error with GRAPHQL_PARSE_FAILED and an unknown field with GRAPHQL_VALIDATION_FAILED', async () => {
    expect((await federation.query('{ person(idNumber: ')).body.errors![0].extensions!.code).toBe('GRAPHQL_PARSE_FAILED');
    expect((await federation.query('{ person(idNumber: "11010519491231002X") { salary } }')).body.errors![0].extensions!.code).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );
  });

  it('answers malformed JSON with 400 BAD_REQUEST, an oversized body with 413 and other paths with 404', async () => {
    const url = federation.gatewayUrl;
    const headers = { 'content-type': 'application/json', ...federation.defaultHeaders };
    const malformed = await fetch(url, { method: 'POST', headers, body: '{"query":' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
    const huge = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: `{ __typename } #${'x'.repeat(2 * 1024 * 1024)}` }),
    });
    expect(huge.status).toBe(413);
    const elsewhere = await fetch(url.replace('/graphql', '/admin'));
    expect(elsewhere.status).toBe(404);
  });

  it('never returns a stack trace', async () => {
    const responses = await Promise.all([
      federation.query(FULL_DOSSIER, { id: 'x' }),
      federation.query('{ person(idNumber: '),
      federation.query(BATCH, { ids: Array(101).fill('x') }),
    ]);
    for (const { body } of responses) {
      expect(JSON.stringify(body)).not.toMatch(/stacktrace|\bat .+\.(ts|js):\d+/);
    }
  });

  it('stays up: a normal query still works after all of the above', async () => {
    const { body } = await federation.query(FULL_DOSSIER, { id: DEMO_PERSONS[0].idNumber });
    expect(body.data!.person.name).toBe(DEMO_PERSONS[0].name);
  });
});
