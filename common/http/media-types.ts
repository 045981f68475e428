/**
 * Content negotiation for the GraphQL endpoint (GraphQL over HTTP): which
 * media type of the ones a server offers a request's `Accept` header
 * prefers.
 */

/** The GraphQL over HTTP response type: its status codes follow the outcome (4xx for a request error). */
export const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';
/** The legacy response type: 200 for every well-formed request, whatever its GraphQL errors. */
export const APPLICATION_JSON = 'application/json';

/** The media type of a Content-Type header, without its parameters (`charset`, `boundary`), in lower case. */
export function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** The types a GraphQL answer may take, the server's preference first (`*∕*` and no `Accept` at all mean application/json). */
export const GRAPHQL_RESPONSE_TYPES = [APPLICATION_JSON, GRAPHQL_RESPONSE_JSON] as const;

export type GraphQLResponseType = (typeof GRAPHQL_RESPONSE_TYPES)[number];

/** The `content-type` header value of each type (UTF-8, always). */
export const CONTENT_TYPE: Readonly<Record<GraphQLResponseType, string>> = {
  [APPLICATION_JSON]: 'application/json; charset=utf-8',
  [GRAPHQL_RESPONSE_JSON]: 'application/graphql-response+json; charset=utf-8',
};

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
  /** Position in the header: the client's order breaks ties. */
  order: number;
}

/** Longer headers than this are read only up to it: no client needs more to say what it accepts. */
const MAX_ACCEPT_LENGTH = 4096;

function mediaRanges(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const [order, entry] of accept.slice(0, MAX_ACCEPT_LENGTH).split(',').entries()) {
    const [range, ...parameters] = entry.split(';');
    const slash = range.indexOf('/');
    if (slash <= 0) continue;
    const type = range.slice(0, slash).trim().toLowerCase();
    const subtype = range
      .slice(slash + 1)
      .trim()
      .toLowerCase();
    if (type.length === 0 || subtype.length === 0 || (type === '*' && subtype !== '*')) continue;
    let q = 1;
    for (const parameter of parameters) {
      const [name, value] = parameter.split('=').map((part) => part.trim());
      if (name.toLowerCase() !== 'q') continue;
      const weight = Number(value);
      // A weight that is no number refuses the range rather than guessing at it.
      q = value !== undefined && value.length > 0 && Number.isFinite(weight) ? Math.min(1, Math.max(0, weight)) : 0;
    }
    ranges.push({ type, subtype, q, order });
  }
  return ranges;
}

/** How specifically a range names a type: 2 exactly, 1 by `type/*`, 0 by `*∕*`; -1 when it does not match. */
function specificity(range: MediaRange, type: string, subtype: string): number {
  if (range.type === type && range.subtype === subtype) return 2;
  if (range.type === type && range.subtype === '*') return 1;
  if (range.type === '*') return 0;
  return -1;
}

/**
 * The offered media type an `Accept` header prefers, or null when it
 * accepts none of them. Each offered type takes the weight of the most
 * specific range that names it; the highest weight wins, then the more
 * specific range, then the range the client listed first, then the
 * server's order (`offered`). No `Accept` (or an empty one) accepts
 * anything: the server's first choice.
 */
export function preferredMediaType<T extends string>(accept: string | undefined, offered: readonly T[]): T | null {
  if (accept === undefined || accept.trim().length === 0) return offered[0] ?? null;
  const ranges = mediaRanges(accept);
  let best: { type: T; q: number; specificity: number; order: number; index: number } | null = null;
  for (const [index, type] of offered.entries()) {
    const slash = type.indexOf('/');
    const [main, sub] = [type.slice(0, slash), type.slice(slash + 1)];
    let match: MediaRange | null = null;
    let matchSpecificity = -1;
    for (const range of ranges) {
      const s = specificity(range, main, sub);
      // Ranges come in the client's order: of two alike, the first listed counts.
      if (s > matchSpecificity) {
        match = range;
        matchSpecificity = s;
      }
    }
    if (match === null || matchSpecificity < 0 || match.q <= 0) continue;
    const candidate = { type, q: match.q, specificity: matchSpecificity, order: match.order, index };
    if (
      best === null ||
      candidate.q > best.q ||
      (candidate.q === best.q &&
        (candidate.specificity > best.specificity || (candidate.specificity === best.specificity && candidate.order < best.order)))
    )
      best = candidate;
  }
  return best?.type ?? null;
}

/** The GraphQL response type an `Accept` header prefers; null when it accepts neither (406). */
export function graphQLResponseType(accept: string | undefined): GraphQLResponseType | null {
  return preferredMediaType(accept, GRAPHQL_RESPONSE_TYPES);
}
