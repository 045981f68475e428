import { ApolloClient, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache, ServerError } from '@apollo/client';
import { cacheExchange, Client, fetchExchange } from '@urql/core';
import { ClientError, GraphQLClient } from 'graphql-request';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';

/**
 * The GraphQL clients people use, each with its default settings — only the
 * URL and the token and matter headers set — against a real gateway: each
 * fetches a dossier, and reads the code of a request error from its 4xx
 * answer (in application/graphql-response+json, which each of them asks
 * for).
 */

const DOSSIER = 'query Dossier($id: ID!) { person(idNumber: $id) { name registration { address { full } } credit { dishonestJudgmentDebtor } } }';
/** Not valid against the schema: a field no type has. */
const INVALID = 'query Salary($id: ID!) { person(idNumber: $id) { salary } }';
const person = DEMO_PERSONS[0];

let dataDir: string;
let federation: TestFederation;

beforeAll(async () => {
  dataDir = await seedTemporaryData(100);
  federation = await startTestFederation({ dataDir });
});

afterAll(async () => {
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The HTTP methods and statuses of the requests a client makes through the global fetch (watched, not changed). */
function watchFetch() {
  const exchanges: { method: string; status: number; contentType: string | null }[] = [];
  const original = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const response = await original(input, init);
    exchanges.push({
      method: init?.method ?? (input instanceof Request ? input.method : 'GET'),
      status: response.status,
      contentType: response.headers.get('content-type'),
    });
    return response;
  });
  return exchanges;
}

describe('urql (@urql/core)', () => {
  const client = () =>
    new Client({ url: federation.gatewayUrl, exchanges: [cacheExchange, fetchExchange], fetchOptions: { headers: federation.defaultHeaders } });

  it('fetches a dossier by GET, its default for queries', async () => {
    const exchanges = watchFetch();
    const result = await client().query(DOSSIER, { id: person.idNumber }).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data.person.name).toBe(person.name);
    expect(exchanges).toEqual([expect.objectContaining({ method: 'GET', status: 200 })]);
  });

  it('reads the code of a validation error from its 400 answer', async () => {
    const exchanges = watchFetch();
    const result = await client().query(INVALID, { id: person.idNumber }).toPromise();
    expect(result.error!.graphQLErrors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(exchanges).toEqual([expect.objectContaining({ status: 400, contentType: expect.stringMatching(/^application\/graphql-response\+json/) })]);
  });
});

describe('Apollo Client 4 (@apollo/client)', () => {
  const client = () =>
    new ApolloClient({ link: new HttpLink({ uri: federation.gatewayUrl, headers: federation.defaultHeaders }), cache: new InMemoryCache() });

  it('fetches a dossier', async () => {
    const result = await client().query({ query: gql(DOSSIER), variables: { id: person.idNumber } });
    expect(result.error).toBeUndefined();
    expect((result.data as { person: { name: string } }).person.name).toBe(person.name);
  });

  it('reads the code of a validation error from its 400 answer: GraphQL errors, not a ServerError', async () => {
    const exchanges = watchFetch();
    const error = await client()
      .query({ query: gql(INVALID), variables: { id: person.idNumber } })
      .then(
        (result) => result.error,
        (thrown: unknown) => thrown,
      );
    expect(error).not.toBeInstanceOf(ServerError);
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect((error as CombinedGraphQLErrors).errors[0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(exchanges).toEqual([expect.objectContaining({ method: 'POST', status: 400 })]);
  });
});

describe('graphql-request', () => {
  const client = () => new GraphQLClient(federation.gatewayUrl, { headers: federation.defaultHeaders });

  it('fetches a dossier', async () => {
    const data = await client().request<{ person: { name: string } }>(DOSSIER, { id: person.idNumber });
    expect(data.person.name).toBe(person.name);
  });

  it('reads the code of a validation error from its 400 answer', async () => {
    const error = await client()
      .request(INVALID, { id: person.idNumber })
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).response.status).toBe(400);
    expect((error as ClientError).response.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
