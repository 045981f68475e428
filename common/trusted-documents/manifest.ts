/**
 * Trusted documents: the operations a calling system has registered, in
 * Apollo's persisted-query-list manifest format, with one member of this
 * gateway's own, `clients`, naming who may run them:
 *
 * ```json
 * { "format": "apollo-persisted-query-manifest", "version": 1,
 *   "clients": [{ "issuer": "https://idp.xizang.gov.example", "subject": "lasa-talent-office-01" }],
 *   "operations": [{ "id": "<sha256 hex of body>", "name": "Dossier", "type": "query", "body": "query Dossier …" }] }
 * ```
 *
 * A client is a calling system: a token's issuer (`iss`) and subject
 * (`sub`), as the rate budgets count it. Every id is checked to be the
 * SHA-256 of its body, every body to parse into one operation of the given
 * name and type, so that a manifest cannot make an id stand for another
 * text. Bodies are validated against the supergraph only when they run (the
 * supergraph may change while the manifest does not).
 */
import { createHash } from 'node:crypto';
import { Kind, parse, visit, type ASTNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';

export const MANIFEST_FORMAT = 'apollo-persisted-query-manifest';

/** A calling system: its token's issuer and subject. */
export interface DocumentClient {
  issuer: string;
  subject: string;
}

/** One registered operation. `id` is the SHA-256 (lowercase hex) of `body`. */
export interface RegisteredOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface TrustedDocumentManifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  clients: DocumentClient[];
  operations: RegisteredOperation[];
}

/** A manifest that cannot be used; the message names the file and, where it applies, the operation. */
export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly at: string,
    reason: string,
  ) {
    super(`Invalid trusted-documents manifest ${file}: ${at} ${reason}`);
    this.name = 'ManifestError';
  }
}

const HEX_64 = /^[0-9a-f]{64}$/;
const MANIFEST_FIELDS = new Set(['format', 'version', 'clients', 'operations', '$comment']);
const OPERATION_FIELDS = new Set(['id', 'name', 'type', 'body']);
const OPERATION_TYPES = new Set(['query', 'mutation', 'subscription']);

/** SHA-256 of a document body, lowercase hex: a registered operation's id. */
export function documentHash(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * A document id as a client sends it: a persisted query's `sha256Hash`, or a
 * `documentId` of `sha256:<hex>` or plain hex. Returns the lowercase hex, or
 * null when it is no SHA-256 id.
 */
export function normalizeDocumentId(value: string): string | null {
  const hex = (value.startsWith('sha256:') ? value.slice(7) : value).toLowerCase();
  return HEX_64.test(hex) ? hex : null;
}

/** The one operation of a body, or a reason it has none. */
function soleOperation(body: string): OperationDefinitionNode | string {
  let definitions: readonly { kind: string }[];
  try {
    definitions = parse(body, { noLocation: true }).definitions;
  } catch (error) {
    return `does not parse: ${(error as Error).message}`;
  }
  const operations = definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) return `must hold exactly one operation (with its fragments), found ${operations.length}`;
  return operations[0];
}

/**
 * Reads and checks one manifest's text.
 * @throws {ManifestError} naming `file` and the operation at fault.
 */
export function parseManifest(text: string, file: string): TrustedDocumentManifest {
  const fail = (at: string, reason: string): never => {
    throw new ManifestError(file, at, reason);
  };
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    return fail('(file)', `is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(root)) return fail('(root)', 'must be a JSON object');
  for (const key of Object.keys(root))
    if (!MANIFEST_FIELDS.has(key)) fail(key, `is not a manifest field (expected ${[...MANIFEST_FIELDS].join(', ')})`);
  if (root.format !== MANIFEST_FORMAT) fail('format', `must be "${MANIFEST_FORMAT}"`);
  if (root.version !== 1) fail('version', 'must be 1');
  if (!Array.isArray(root.clients) || root.clients.length === 0) return fail('clients', 'must be a non-empty array of { issuer, subject }');
  const clients: DocumentClient[] = root.clients.map((client: unknown, i: number) => {
    if (!isRecord(client) || Object.keys(client).some((k) => k !== 'issuer' && k !== 'subject'))
      return fail(`clients[${i}]`, 'must be an object with issuer and subject only');
    if (typeof client.issuer !== 'string' || client.issuer.trim() === '') fail(`clients[${i}].issuer`, 'must be a non-empty string');
    if (typeof client.subject !== 'string' || client.subject.trim() === '') fail(`clients[${i}].subject`, 'must be a non-empty string');
    return { issuer: client.issuer as string, subject: client.subject as string };
  });
  if (!Array.isArray(root.operations)) return fail('operations', 'must be an array');
  const seen = new Map<string, number>();
  const operations = root.operations.map((entry: unknown, i: number): RegisteredOperation => {
    const at = `operations[${i}]`;
    if (!isRecord(entry)) return fail(at, 'must be an object');
    const label = typeof entry.name === 'string' ? `${at} (${entry.name})` : at;
    for (const key of Object.keys(entry))
      if (!OPERATION_FIELDS.has(key)) fail(`${label}.${key}`, 'is not an operation field (expected id, name, type, body)');
    const { id, name, type, body } = entry;
    if (typeof name !== 'string' || name === '') return fail(`${at}.name`, 'must be the operation name');
    if (typeof type !== 'string' || !OPERATION_TYPES.has(type)) return fail(`${label}.type`, 'must be query, mutation or subscription');
    if (typeof body !== 'string' || body === '') return fail(`${label}.body`, 'must be the document text');
    if (typeof id !== 'string' || !HEX_64.test(id)) return fail(`${label}.id`, 'must be the SHA-256 of the body, 64 lowercase hex digits');
    if (id !== documentHash(body)) fail(`${label}.id`, `is not the SHA-256 of its body (that is ${documentHash(body)})`);
    const operation = soleOperation(body);
    if (typeof operation === 'string') return fail(`${label}.body`, operation);
    if (operation.name?.value !== name) fail(`${label}.name`, `does not name the body's operation (${operation.name?.value ?? 'anonymous'})`);
    if (`${operation.operation}` !== type) fail(`${label}.type`, `is not the body's operation type (${operation.operation})`);
    const previous = seen.get(id);
    if (previous !== undefined) fail(`${label}.id`, `repeats operations[${previous}]`);
    seen.set(id, i);
    return { id, name, type: type as RegisteredOperation['type'], body };
  });
  return { format: MANIFEST_FORMAT, version: 1, clients, operations };
}

/**
 * Builds a manifest from `.graphql` sources: each operation of each file
 * becomes one registered operation, with the fragments it uses, printed as
 * written. Every operation needs a name.
 * @throws {ManifestError} naming the file and operation at fault.
 */
export function buildManifest(clients: DocumentClient[], sources: { file: string; text: string }[]): TrustedDocumentManifest {
  const operations: RegisteredOperation[] = [];
  const names = new Map<string, string>();
  for (const { file, text } of sources) {
    let document: ReturnType<typeof parse>;
    try {
      document = parse(text);
    } catch (error) {
      throw new ManifestError(file, '(file)', `does not parse: ${(error as Error).message}`);
    }
    const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
    const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    if (ops.length === 0) throw new ManifestError(file, '(file)', 'holds no operation');
    for (const [i, operation] of ops.entries()) {
      const name = operation.name?.value;
      if (!name) throw new ManifestError(file, `operation ${i + 1}`, 'has no name: every registered operation needs one');
      const earlier = names.get(name);
      if (earlier !== undefined) throw new ManifestError(file, name, `is already an operation of ${earlier}`);
      names.set(name, file);
      // The body is the operation's text and the fragments it uses, as written: what the client sends is what is registered.
      const body = [operation, ...fragmentsUsedBy(operation, fragments)].map((d) => text.slice(d.loc!.start, d.loc!.end)).join('\n\n');
      operations.push({ id: documentHash(body), name, type: `${operation.operation}` as RegisteredOperation['type'], body });
    }
  }
  return { format: MANIFEST_FORMAT, version: 1, clients, operations };
}

/** The fragments an operation spreads, directly or through other fragments, in the file's order. */
function fragmentsUsedBy(operation: OperationDefinitionNode, fragments: readonly FragmentDefinitionNode[]): FragmentDefinitionNode[] {
  const byName = new Map(fragments.map((f) => [f.name.value, f]));
  const used = new Set<string>();
  const walk = (node: ASTNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (used.has(name) || !byName.has(name)) return;
        used.add(name);
        walk(byName.get(name)!);
      },
    });
  walk(operation);
  return fragments.filter((f) => used.has(f.name.value));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
