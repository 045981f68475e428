/** Where a request goes, as the HTTP layer routes it. */
export interface RequestTarget {
  /** The path exactly as sent, without the query: `/graphql`, `//`, `/%zz`. */
  pathname: string;
  /** The query with its `?`, or '' (GraphQL over GET reads it). */
  search: string;
}

/**
 * Reads a request target (RFC 9112, section 3.2) without ever throwing:
 * the origin form (`/path?query`) is split at its first `?` and its path
 * taken as it is — `//`, `///` and `//%zz` are paths, not a host to parse —
 * and the absolute form (`http://host/path`) is parsed as a URL. Anything
 * else (the authority form of CONNECT, the asterisk form of OPTIONS, a URL
 * that does not parse, a scheme other than http or https) is null: the
 * caller answers 400.
 */
export function parseRequestTarget(target: string | undefined): RequestTarget | null {
  if (target === undefined || target.length === 0) return null;
  if (target.startsWith('/')) {
    const query = target.indexOf('?');
    return query < 0 ? { pathname: target, search: '' } : { pathname: target.slice(0, query), search: target.slice(query) };
  }
  if (!/^https?:\/\//i.test(target)) return null;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return null;
  }
  return { pathname: url.pathname, search: url.search };
}
