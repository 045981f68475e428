import { databaseFileOf } from '../../subgraphs/catalog.js';
import { openDatabase } from '../../subgraphs/shared/database.js';

/**
 * The bench's workloads, over varied records of the seeded data: each
 * request of a run asks for a different person, batch, document or
 * organisation than the requests around it (a gateway that merges identical
 * in-flight subgraph calls gets no help from repetition). The fields are
 * ones no configuration masks, so answers can be compared byte for byte.
 */
export interface Workload {
  id: 'W1' | 'W2' | 'W3' | 'W4' | 'W5';
  title: string;
  /** Request bodies, taken in turn by the load generator. */
  bodies: string[];
}

const DOSSIER = `query Dossier($id: ID!) {
  person(idNumber: $id) {
    name sex birthDate
    registration { status registeredOn address { region { name provinceName } } }
    socialInsurance { contributionMonths currentAgency { name } }
    providentFundAccounts { status balance lastDepositMonth }
    credit { dishonestJudgmentDebtor activeNegativeRecords }
    licences { type title status validUntil }
  }
}`;

const BATCH = `query BatchCheck($ids: [ID!]!) {
  persons(idNumbers: $ids) {
    name
    registration { status address { region { provinceName } } }
    credit { dishonestJudgmentDebtor abnormalOperation activeNegativeRecords }
  }
}`;

const VERIFY = `query VerifyCertificate($document: String!, $holder: String!) {
  verifyDocument(document: $document, holderName: $holder) {
    verdict code signatureValid holderNameMatches
    issuer { name }
    record { ... on ParticipationCertificate { status } }
  }
}`;

const ORGANISATION = `query OrganisationProfile($code: ID!) {
  organisation(creditCode: $code) {
    name entityType legalRepresentative establishedOn status
    region { fullName }
    credit { dishonestJudgmentDebtor abnormalOperation activeNegativeRecords }
    licences { type title status validUntil }
    socialInsuranceEmployer { employerNumber insuredHeadcount agency { name } }
    providentFundEmployer { accountNumber depositingHeadcount centre { name } }
  }
}`;

/** The workloads' queries (the tests hold them within the gateway's default limits). */
export const WORKLOAD_QUERIES = Object.freeze({ DOSSIER, BATCH, VERIFY, ORGANISATION });

const body = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });

/**
 * Builds the five workloads from the seeded data folder; `variety` records
 * of each kind. `issue` issues a participation certificate to a person and
 * returns its token, or null when the person has no insurance record.
 */
export async function buildWorkloads(dataDir: string, issue: (idNumber: string) => Promise<string | null>, variety = 64): Promise<Workload[]> {
  const household = openDatabase(databaseFileOf(dataDir, 'household'), { readonly: true });
  const licences = openDatabase(databaseFileOf(dataDir, 'licences'), { readonly: true });
  let persons: { id_number: string; name: string }[];
  let organisations: { credit_code: string }[];
  try {
    // Evenly spread over the registry, the same ones on every run of the same seed.
    const count = (household.prepare('SELECT COUNT(*) AS n FROM persons').get() as { n: number }).n;
    const step = Math.max(1, Math.floor(count / (variety * 50)));
    persons = household
      .prepare(
        'SELECT id_number, name FROM (SELECT id_number, name, ROW_NUMBER() OVER (ORDER BY id_number) AS n FROM persons) WHERE n % ? = 0 ORDER BY n LIMIT ?',
      )
      .all(step, variety * 50) as typeof persons;
    organisations = licences.prepare('SELECT credit_code FROM organisations ORDER BY credit_code LIMIT ?').all(variety) as typeof organisations;
  } finally {
    household.close();
    licences.close();
  }
  if (persons.length < variety * 50 || organisations.length < variety)
    throw new Error(`the bench needs at least ${variety * 50} persons and ${variety} organisations seeded`);

  // Participation certificates issued by the social-insurance domain to varied holders (through `issue`), as notaries meet them.
  const documents: { token: string; holder: string }[] = [];
  for (const person of persons) {
    if (documents.length === variety) break;
    const token = await issue(person.id_number);
    if (token) documents.push({ token, holder: person.name });
  }
  if (documents.length < variety) throw new Error(`could issue only ${documents.length} certificates`);

  const w1 = persons.slice(0, variety).map((p) => body(DOSSIER, { id: p.id_number }));
  const w2 = Array.from({ length: variety }, (_, i) => body(BATCH, { ids: persons.slice(i * 50, i * 50 + 50).map((p) => p.id_number) }));
  const w3 = documents.map((d) => body(VERIFY, { document: d.token, holder: d.holder }));
  const w4 = organisations.map((o) => body(ORGANISATION, { code: o.credit_code }));
  // The mix, in a fixed interleaving of 20: 8 dossiers, 5 certificate checks, 5 organisation profiles, 2 batch checks.
  const pattern = [w1, w3, w1, w4, w1, w3, w4, w1, w2, w3, w1, w4, w1, w3, w4, w1, w3, w4, w1, w2];
  const taken = new Map<string[], number>();
  const w5: string[] = [];
  for (let i = 0; i < variety * 5; i++) {
    const list = pattern[i % pattern.length];
    const n = taken.get(list) ?? 0;
    taken.set(list, n + 1);
    w5.push(list[n % list.length]);
  }
  return [
    { id: 'W1', title: 'person dossier (one person, five domains)', bodies: w1 },
    { id: 'W2', title: 'batch check (50 persons: household + credit)', bodies: w2 },
    { id: 'W3', title: 'certificate verification (notary)', bodies: w3 },
    { id: 'W4', title: 'organisation profile (four domains)', bodies: w4 },
    { id: 'W5', title: 'mix: 40 % W1, 25 % W3, 25 % W4, 10 % W2', bodies: w5 },
  ];
}
