/**
 * fast-check arbitraries of hostile HTTP requests: request lines, targets,
 * headers, encodings, bodies and GraphQL documents, from plausible to
 * garbage, as bytes to send over a bare socket.
 */
import fc from 'fast-check';

/** Request targets that once stopped every service with one request. */
export const CRASHING_TARGETS = ['//', '///', '//%zz', '//a%', '//[', 'http://[', '//x:99999/', 'http://a:b'];

/** What a generated request needs from the system under test: real credentials, for the requests that get past admission. */
export interface Credentials {
  /** A valid bearer token with every read scope. */
  token: string;
  /** A matter the token may act under. */
  matter: string;
  /** A valid gateway assertion for the subgraph under test. */
  assertion: string;
  /** ID numbers that exist. */
  idNumbers: readonly string[];
}

/** One generated request: which service it goes to, and its bytes (with optional slow pieces). */
export interface FuzzRequest {
  service: 'gateway' | 'subgraph';
  bytes: Buffer;
  /** Pieces sent later, each after its delay: a slow client. */
  later: { afterMs: number; bytes: Buffer }[];
  /** A short label for reports. */
  label: string;
}

const SEED_QUERIES = [
  '{ __typename }',
  'query($id: ID!) { person(idNumber: $id) { name sex birthDate } }',
  'query P($id: ID!) { person(idNumber: $id) { idNumber name registration { address { full street } household { members { person { name } } } } } }',
  'query($ids: [ID!]!) { persons(idNumbers: $ids) { name credit { dishonestJudgmentDebtor } } }',
  'query { organisation(creditCode: "91110000100000000A") { name } }',
  'mutation { __typename }',
  'subscription { __typename }',
  '{ __schema { types { name fields { name } } } }',
  'query A { a: __typename } query B { b: __typename }',
  'fragment F on Person { name } query($id: ID!) { person(idNumber: $id) { ...F ...F } }',
  '{ _service { sdl } }',
  'query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { name } } }',
];

/** Characters that matter to a GraphQL lexer, and some that do not belong at all. */
const GRAPHQL_NOISE = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  '$',
  '!',
  '@',
  '...',
  '"',
  '"""',
  '\\',
  '#',
  ',',
  '=',
  '|',
  '&',
  '\u0000',
  '\u2028',
  '\uFFFF',
  '\uD800',
  'é',
  '户籍',
  '\n',
];

/** A GraphQL document: a seed query, mutated by deletions, insertions, duplications and swaps of names. */
const mutatedDocument: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(...SEED_QUERIES),
    fc.array(
      fc.record({
        kind: fc.constantFrom('delete', 'insert', 'duplicate', 'rename'),
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        length: fc.integer({ min: 1, max: 12 }),
        text: fc.oneof(
          fc.constantFrom(...GRAPHQL_NOISE),
          fc.string({ maxLength: 8 }),
          fc.constantFrom('person', 'name', 'idNumber', '__typename', 'on', 'null', 'true', '$id', 'query'),
        ),
      }),
      { maxLength: 5 },
    ),
  )
  .map(([seed, mutations]) => {
    let text = seed;
    for (const m of mutations) {
      const at = Math.floor(m.at * text.length);
      if (m.kind === 'delete') text = text.slice(0, at) + text.slice(at + m.length);
      else if (m.kind === 'insert') text = text.slice(0, at) + m.text + text.slice(at);
      else if (m.kind === 'duplicate') text = text.slice(0, at) + text.slice(at, at + m.length * 4) + text.slice(at);
      else text = text.replace(/\b[a-zA-Z_]\w*\b/, m.text);
    }
    return text;
  });

/** Nesting a parser may recurse into: selections, lists, objects. */
const deepDocument: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 10, max: 20_000 }), fc.constantFrom('selection', 'list', 'object'))
  .map(([depth, kind]) => {
    if (kind === 'selection') return `{ person(idNumber: "1") ${'{ registration '.repeat(depth)}${'}'.repeat(depth)} }`;
    if (kind === 'list') return `{ persons(idNumbers: ${'['.repeat(depth)}"1"${']'.repeat(depth)}) { name } }`;
    return `{ organisation(creditCode: ${'{a:'.repeat(depth)}1${'}'.repeat(depth)}) { name } }`;
  });

/** Variables as JSON text: plausible, of the wrong type, deeply nested (built as text: JSON.stringify recurses), huge lists. */
const variables = (credentials: Credentials): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    fc.record({ id: fc.constantFrom(...credentials.idNumbers) }).map((v) => JSON.stringify(v)),
    fc.record({ id: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 })) }).map((v) => JSON.stringify(v)),
    fc
      .record({ ids: fc.array(fc.constantFrom(...credentials.idNumbers, '11010519491231002X', 'x'), { maxLength: 120 }) })
      .map((v) => JSON.stringify(v)),
    fc.integer({ min: 10, max: 20_000 }).map((depth) => `{"id":${'['.repeat(depth)}"1"${']'.repeat(depth)}}`),
    fc.integer({ min: 10, max: 20_000 }).map((depth) => `{"r":[${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}]}`),
    fc.json({ maxDepth: 4 }),
  );

/** A GraphQL request object as JSON text. */
function requestText(query: string, variablesText: string | undefined): string {
  return variablesText === undefined ? JSON.stringify({ query }) : `{"query":${JSON.stringify(query)},"variables":${variablesText}}`;
}

/** A body: a GraphQL request object (valid, mutated, wrongly typed), other JSON, or bytes that are not JSON or not UTF-8. */
const body = (credentials: Credentials): fc.Arbitrary<Buffer> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.oneof(fc.constantFrom(...SEED_QUERIES), mutatedDocument), variables(credentials))
        .map(([query, vars]) => Buffer.from(requestText(query, vars))),
    },
    { weight: 1, arbitrary: deepDocument.map((query) => Buffer.from(requestText(query, undefined))) },
    {
      weight: 1,
      arbitrary: fc
        .record(
          {
            query: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string())),
            operationName: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
            extensions: fc.oneof(
              fc.json().map((t) => JSON.parse(t)),
              fc.constant({ persistedQuery: { version: 1, sha256Hash: 'ab' } }),
            ),
          },
          { requiredKeys: [] },
        )
        .map((r) => Buffer.from(JSON.stringify(r))),
    },
    { weight: 1, arbitrary: fc.json().map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.integer({ min: 10, max: 50_000 }).map((depth) => Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  );

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'PROPFIND', 'QUERY'];

const target = (endpoint: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 30, arbitrary: fc.constant(endpoint) },
    { weight: 2, arbitrary: fc.constantFrom(...CRASHING_TARGETS) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '/health',
        '/',
        '/graphql',
        '*',
        'example.com:443',
        '/graphql/../health',
        '/%2e%2e/',
        '/graphql?query=%7B__typename%7D',
        '/graphql#x',
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => `/${encodeURI(s)}`) },
    { weight: 1, arbitrary: fc.webUrl({ withQueryParameters: true }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 30 }) },
    { weight: 1, arbitrary: fc.tuple(fc.constant(endpoint), fc.string({ maxLength: 60 })).map(([path, query]) => `${path}?${query}`) },
  );

const version = fc.oneof(
  { weight: 20, arbitrary: fc.constant('HTTP/1.1') },
  { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1x', 'http/1.1', '') },
);

/** Header lines (without CRLF) beside the ones the framing needs. */
const extraHeaders = (credentials: Credentials, service: 'gateway' | 'subgraph'): fc.Arbitrary<string[]> =>
  fc.array(
    fc.oneof(
      // Sent twice with the credentials: a header given twice.
      {
        weight: 1,
        arbitrary: fc.constant(
          service === 'gateway' ? `Authorization: Bearer ${credentials.token}` : `X-Gateway-Assertion: ${credentials.assertion}`,
        ),
      },
      { weight: 1, arbitrary: fc.constant(`X-Matter-Code: ${credentials.matter}`) },
      {
        weight: 1,
        arbitrary: fc
          .oneof(
            fc.string(),
            fc.base64String(),
            fc.constantFrom('Bearer', 'Bearer ', 'Basic YTpi', `Bearer ${credentials.token.slice(0, -3)}`, 'Bearer a.b.c', 'Bearer ....'),
          )
          .map((v) => `Authorization: ${v}`),
      },
      {
        weight: 1,
        arbitrary: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('TB-XX-999', '', 'TB-HJ-004 ')).map((v) => `X-Matter-Code: ${v}`),
      },
      {
        weight: 1,
        arbitrary: fc
          .oneof(fc.string({ maxLength: 80 }), fc.constantFrom('%E6%B9%98', '%zz', '%', '%E6%B9', 'A'.repeat(200)))
          .map((v) => `X-Case-Number: ${v}`),
      },
      { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 140 }), fc.uuid(), fc.constant('dup-fixed-id')).map((v) => `X-Request-Id: ${v}`) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'Content-Type: text/plain',
          'Content-Type: application/graphql',
          'Content-Type: application/json; charset=latin1',
          'Content-Type: multipart/form-data; boundary=x',
          'Content-Type: ;;;',
          'Content-Encoding: gzip',
          'Expect: 100-continue',
          'Upgrade: websocket',
          'Connection: upgrade',
        ),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 }), fc.string({ unit: 'binary-ascii', maxLength: 60 }))
          .map(([name, value]) => `${name}: ${value}`),
      },
      { weight: 1, arbitrary: fc.constantFrom(' folded: continuation', 'NoColonHere', ': empty name', 'X-Empty:', `X-Long: ${'a'.repeat(9000)}`) },
      {
        weight: 4,
        arbitrary: fc.constantFrom(
          'Accept: application/json',
          'Accept: application/graphql-response+json',
          'User-Agent: fuzz',
          'Accept-Encoding: gzip, br',
        ),
      },
    ),
    { maxLength: 3 },
  );

/** How the body is framed: by its length (right, wrong, malformed), chunked (right or broken), or not at all. */
type Framing = 'length' | 'short-length' | 'long-length' | 'bad-length' | 'chunked' | 'bad-chunked' | 'unfinished-chunked' | 'none' | 'both';
const framing = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Framing>('length') },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Framing>('short-length', 'long-length', 'bad-length', 'chunked', 'bad-chunked', 'unfinished-chunked', 'none', 'both'),
  },
);

function frame(kind: Framing, payload: Buffer): { headers: string[]; bytes: Buffer } {
  switch (kind) {
    case 'length':
      return { headers: [`Content-Length: ${payload.length}`], bytes: payload };
    case 'short-length':
      return { headers: [`Content-Length: ${Math.max(0, payload.length - 3)}`], bytes: payload };
    case 'long-length':
      return { headers: [`Content-Length: ${payload.length + 50}`], bytes: payload };
    case 'bad-length':
      return { headers: ['Content-Length: -1'], bytes: payload };
    case 'chunked':
      return {
        headers: ['Transfer-Encoding: chunked'],
        bytes: Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')]),
      };
    case 'bad-chunked':
      return { headers: ['Transfer-Encoding: chunked'], bytes: Buffer.concat([Buffer.from('zz\r\n'), payload]) };
    case 'unfinished-chunked':
      return { headers: ['Transfer-Encoding: chunked'], bytes: Buffer.concat([Buffer.from(`${(payload.length + 10).toString(16)}\r\n`), payload]) };
    case 'both':
      return { headers: [`Content-Length: ${payload.length}`, 'Transfer-Encoding: chunked'], bytes: payload };
    default:
      return { headers: [], bytes: payload };
  }
}

/** A request that fast-check reports by its label, not its bytes (a batch of them would fill the screen). */
function fuzzRequest(service: FuzzRequest['service'], bytes: Buffer, later: FuzzRequest['later'], label: string): FuzzRequest {
  return { service, bytes, later, label, [fc.toStringMethod]: () => `${service}: ${label}` } as FuzzRequest;
}

/** `arbitrary` once in `every` values, null otherwise. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: every - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
}

/** A whole request to the gateway or the subgraph under test. */
export function hostileRequest(credentials: Credentials): fc.Arbitrary<FuzzRequest> {
  const credentialHeaders = (service: FuzzRequest['service']) =>
    service === 'gateway'
      ? [`Authorization: Bearer ${credentials.token}`, `X-Matter-Code: ${credentials.matter}`]
      : [`X-Gateway-Assertion: ${credentials.assertion}`];
  return fc.constantFrom<'gateway' | 'subgraph'>('gateway', 'subgraph').chain((service) =>
    fc
      .record({
        method: fc.oneof(
          { weight: 12, arbitrary: fc.constant('POST') },
          { weight: 3, arbitrary: fc.constantFrom(...METHODS) },
          { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 10 }) },
        ),
        target: target(service === 'gateway' ? '/graphql' : '/'),
        version,
        headers: extraHeaders(credentials, service),
        body: body(credentials),
        framing,
        // Most requests carry valid credentials, so that they reach GraphQL; the rest test admission.
        credentialed: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        slow: sometimes(fc.record({ splitAt: fc.double({ min: 0, max: 1, noNaN: true }), afterMs: fc.integer({ min: 10, max: 400 }) }), 10),
        garbage: sometimes(fc.uint8Array({ minLength: 1, maxLength: 200 }), 20),
      })
      .map(({ method, target: path, version: http, headers, body: payload, framing: kind, credentialed, slow, garbage }) => {
        if (garbage) return fuzzRequest(service, Buffer.from(garbage), [], 'random bytes');
        const framed = frame(kind, payload);
        const credentials = credentialed ? credentialHeaders(service) : [];
        const head = [
          `${method} ${path} ${http}`.trimEnd(),
          'Host: 127.0.0.1',
          'Content-Type: application/json',
          ...framed.headers,
          ...credentials,
          ...headers,
          'Connection: close',
          '',
          '',
        ].join('\r\n');
        const bytes = Buffer.concat([Buffer.from(head, 'latin1'), framed.bytes]);
        const label = `${method} ${path.slice(0, 40)} ${http} (${kind}${slow ? ', slow' : ''})`;
        if (!slow) return fuzzRequest(service, bytes, [], label);
        const cut = Math.floor(slow.splitAt * bytes.length);
        return fuzzRequest(service, bytes.subarray(0, cut), [{ afterMs: slow.afterMs, bytes: bytes.subarray(cut) }], label);
      }),
  );
}
