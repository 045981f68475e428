import { ERRORS, type ErrorCode } from '../../common/errors.js';
import type { TrustedDocumentsMode, TrustList } from '../../common/trust-list.js';
import { documentHash, normalizeDocumentId } from '../../common/trusted-documents/manifest.js';
import type { GatewayContext } from '../pipeline/context.js';
import type { DocumentRequest, GatewayPlugin, GraphQLAnswer } from '../pipeline/plugin.js';
import { clientKey, type DocumentRegistry } from '../trusted-documents/registry.js';

export interface TrustedDocumentsOptions {
  /** The registered documents of each client (manifests, reloaded when they change). */
  registry: Pick<DocumentRegistry, 'lookup'>;
  /** The trust list, whose `clients` say which calling systems must send only registered documents. Default: all `allow`. */
  trustList?: Pick<TrustList, 'issuers'>;
}

const answer = (code: ErrorCode, message: string = ERRORS[code].message): GraphQLAnswer => ({
  status: ERRORS[code].status,
  payload: { errors: [{ message, extensions: { code } }] },
});

const NOT_FOUND = answer('PERSISTED_QUERY_NOT_FOUND');
const HASH_MISMATCH = answer('PERSISTED_QUERY_HASH_MISMATCH');
const REQUIRED = answer('PERSISTED_QUERY_REQUIRED');

/** The document id a request names (`extensions.persistedQuery.sha256Hash` or `documentId`), lowercase hex; an answer when it is malformed. */
function requestedId(request: DocumentRequest): string | null | GraphQLAnswer {
  const persisted = (request.extensions as { persistedQuery?: unknown } | null | undefined)?.persistedQuery;
  let id: string | null = null;
  if (persisted !== undefined && persisted !== null) {
    const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown };
    if (version !== 1 || typeof sha256Hash !== 'string')
      return answer('BAD_REQUEST', 'extensions.persistedQuery must be { "version": 1, "sha256Hash": "<hex>" }.');
    id = normalizeDocumentId(sha256Hash);
    // Not a SHA-256 at all: no registered document can have it.
    if (id === null) return NOT_FOUND;
  }
  const documentId = request.documentId;
  if (documentId !== undefined && documentId !== null) {
    if (typeof documentId !== 'string' || documentId === '') return answer('BAD_REQUEST', '"documentId" must be a non-empty string.');
    const other = normalizeDocumentId(documentId);
    if (other === null) return NOT_FOUND;
    if (id !== null && id !== other) return answer('BAD_REQUEST', 'extensions.persistedQuery and documentId name different documents.');
    id = other;
  }
  return id;
}

/**
 * Trusted documents: a client may name a registered operation by id
 * (Apollo's `extensions.persistedQuery.sha256Hash`, or GraphQL over HTTP's
 * `documentId`, `sha256:<hex>` or plain hex) instead of sending its text,
 * and a client the trust list marks `trustedDocuments: "require"` may run
 * only its registered documents. Only the client's own manifests are
 * consulted (issuer and subject of its token). An id with a query text that
 * does not hash to it is refused. Registration is not authorisation: the
 * registered text goes on through parsing, operation limits, cost, scopes
 * and purpose binding like any text.
 */
export function useTrustedDocuments(options: TrustedDocumentsOptions): GatewayPlugin {
  const { registry } = options;
  if (typeof registry?.lookup !== 'function') throw new TypeError('trusted documents: registry must be a document registry');
  const required = new Set<string>();
  for (const issuer of options.trustList?.issuers ?? []) {
    for (const [subject, client] of issuer.clients) if (client.trustedDocuments === 'require') required.add(clientKey(issuer.issuer, subject));
  }
  const modeOf = ({ caller }: GatewayContext): TrustedDocumentsMode =>
    required.size > 0 && required.has(clientKey(caller.issuer, caller.subject)) ? 'require' : 'allow';

  /** A request naming document `id`: its registered body, or a refusal. */
  const byId = (id: string, request: DocumentRequest, context: GatewayContext): GraphQLAnswer | undefined => {
    const { query } = request;
    const text = typeof query === 'string' && query.length > 0 ? query : null;
    // Apollo's rule: a text sent with an id must be the document it names.
    if (text !== null && documentHash(text) !== id) return HASH_MISMATCH;
    const registered = registry.lookup(context.caller.issuer, context.caller.subject, id);
    if (registered) {
      request.query = registered.body;
      return undefined;
    }
    // Not registered for this client: a text sent with it still runs where any text may (Apollo's retry after NOT_FOUND).
    return text !== null && modeOf(context) === 'allow' ? undefined : NOT_FOUND;
  };

  return {
    name: 'trusted-documents',
    onDocument(request, context) {
      // The hot path: no id sent (two property checks), and no client requires documents.
      if (request.documentId !== undefined || (request.extensions as { persistedQuery?: unknown } | undefined)?.persistedQuery !== undefined) {
        const id = requestedId(request);
        if (typeof id === 'string') return byId(id, request, context);
        if (id !== null) return id;
      }
      if (required.size === 0 || modeOf(context) === 'allow') return undefined;
      // Required: the text must be one of the client's registered documents.
      const { query } = request;
      if (typeof query !== 'string' || query.length === 0) return undefined; // the engine answers BAD_REQUEST
      return registry.lookup(context.caller.issuer, context.caller.subject, documentHash(query)) ? undefined : REQUIRED;
    },
  };
}
