import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph, SUPERGRAPH_FILE } from '../../scripts/compose-supergraph.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';

const DOSSIER = /* GraphQL */ `
  query Dossier($id: ID!) {
    person(idNumber: $id) {
      name
      registration { address { full } }
      socialInsurance { enrolments { insuranceType status } }
      providentFundAccounts { status }
      credit { dishonestJudgmentDebtor }
      licences { title }
    }
  }
`;

let dataDir: string;

beforeAll(async () => {
  dataDir = await seedTemporaryData(200);
});

afterAll(() => {
  if (dataDir) removeData(dataDir);
});

describe('when one subgraph is down', () => {
  let federation: TestFederation;

  beforeAll(async () => {
    federation = await startTestFederation({ dataDir });
  });

  afterAll(async () => {
    await federation?.stop();
  });

  it('returns the other domains’ data plus one error naming the unavailable domain', async () => {
    const id = DEMO_PERSONS[0].idNumber;
    const before = await federation.query(DOSSIER, { id });
    expect(before.body.errors).toBeUndefined();

    await federation.stopSubgraph('credit');
    const { status, body } = await federation.query(DOSSIER, { id });
    expect(status).toBe(200);
    const person = body.data!.person;
    expect(person.name).toBe(DEMO_PERSONS[0].name);
    expect(person.registration).toEqual(before.body.data!.person.registration);
    expect(person.socialInsurance).toEqual(before.body.data!.person.socialInsurance);
    expect(person.providentFundAccounts).toEqual(before.body.data!.person.providentFundAccounts);
    expect(person.licences).toEqual(before.body.data!.person.licences);
    expect(person.credit).toBeNull();
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0].extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', domain: 'credit' });
    expect(body.errors![0].message).toMatch(/credit/);
    // The subgraph's address is internal topology: it must not leak.
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });

  it('keeps the gateway up and serving', async () => {
    const { status, body } = await federation.query('{ __typename }');
    expect(status).toBe(200);
    expect(body.data).toEqual({ __typename: 'Query' });
  });
});

describe('the supergraph file', () => {
  let folder: string;
  let federation: TestFederation;
  const reloads: boolean[] = [];
  const waitForReload = async (count: number) => {
    for (let i = 0; i < 100 && reloads.length < count; i++) await new Promise((r) => setTimeout(r, 50));
    expect(reloads.length).toBeGreaterThanOrEqual(count);
  };
  const replaceFile = (file: string, content: string) => {
    writeFileSync(`${file}.next`, content);
    renameSync(`${file}.next`, file);
  };

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'kuasheng-supergraph-'));
    const withoutCredit = composeSupergraph(['household', 'social-insurance', 'provident-fund', 'licences']);
    if (!withoutCredit.ok) throw new Error(withoutCredit.errors.join('\n'));
    writeFileSync(join(folder, 'supergraph.graphql'), withoutCredit.supergraphSdl);
    federation = await startTestFederation({
      dataDir,
      supergraphFile: join(folder, 'supergraph.graphql'),
      onSupergraphReload: (outcome) => reloads.push(outcome.ok),
    });
  });

  afterAll(async () => {
    await federation?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('is reloaded when it changes: a newly composed domain becomes queryable without a restart', async () => {
    const id = DEMO_PERSONS[0].idNumber;
    const before = await federation.query('query($id: ID!) { person(idNumber: $id) { credit { dishonestJudgmentDebtor } } }', { id });
    expect(before.body.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');

    replaceFile(join(folder, 'supergraph.graphql'), readFileSync(SUPERGRAPH_FILE, 'utf8'));
    await waitForReload(1);
    expect(reloads[0]).toBe(true);

    const after = await federation.query('query($id: ID!) { person(idNumber: $id) { credit { dishonestJudgmentDebtor } } }', { id });
    expect(after.body.errors).toBeUndefined();
    expect(after.body.data!.person.credit).toEqual({ dishonestJudgmentDebtor: expect.any(Boolean) });
  });

  it('refuses a broken file and keeps serving the last good supergraph', async () => {
    replaceFile(join(folder, 'supergraph.graphql'), 'this is not a supergraph {');
    await waitForReload(2);
    expect(reloads[1]).toBe(false);
    const { body } = await federation.query('query($id: ID!) { person(idNumber: $id) { name credit { dishonestJudgmentDebtor } } }', {
      id: DEMO_PERSONS[0].idNumber,
    });
    expect(body.errors).toBeUndefined();
    expect(body.data!.person.name).toBe(DEMO_PERSONS[0].name);
  });
});
