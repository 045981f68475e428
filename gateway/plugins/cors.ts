import type { IncomingMessage } from 'node:http';
import { AdmissionAnswer, type HttpAnswer } from '../../common/http/server.js';
import type { RequestContext } from '../pipeline/context.js';
import type { GatewayPlugin } from '../pipeline/plugin.js';
import { header } from '../pipeline/request-headers.js';

export interface CorsOptions {
  /**
   * The origins whose pages may call the gateway from a browser, each exact
   * (`https://portal.example.gov.cn`, `http://localhost:5173`): no
   * wildcards. Default none: no CORS headers at all, and a preflight is
   * answered without the headers a browser needs to go on.
   */
  origins?: readonly string[];
  /**
   * Request headers a listed origin's page may send. Default the API's:
   * authorization, content-type, x-matter-code, x-case-number, x-request-id,
   * and the CSRF-prevention headers apollo-require-preflight and
   * x-apollo-operation-name.
   */
  allowedHeaders?: readonly string[];
  /** Response headers such a page may read beyond the safelisted ones. Default x-request-id, retry-after, www-authenticate. */
  exposedHeaders?: readonly string[];
  /** How long a browser may keep a preflight's answer, in seconds. Default 600 (browsers cap it at 2 hours or less). */
  maxAgeSeconds?: number;
}

export const DEFAULT_ALLOWED_HEADERS: readonly string[] = [
  'authorization',
  'content-type',
  'x-matter-code',
  'x-case-number',
  'x-request-id',
  'apollo-require-preflight',
  'x-apollo-operation-name',
];
export const DEFAULT_EXPOSED_HEADERS: readonly string[] = ['x-request-id', 'retry-after', 'www-authenticate'];
export const DEFAULT_MAX_AGE_SECONDS = 600;

/** The methods of the GraphQL endpoint (queries by GET, everything by POST). */
const ALLOWED_METHODS = 'GET, POST';

/**
 * An origin as a browser serialises it in the `Origin` header
 * (`scheme://host[:port]`, the host in lower case, no default port), from
 * an exact origin. Throws a TypeError for anything else: a wildcard, a
 * path, credentials, another scheme than http or https.
 */
export function normalizeOrigin(value: string): string {
  const text = value.trim();
  if (text.includes('*')) throw new TypeError(`${JSON.stringify(value)}: wildcards are not allowed, list each origin exactly`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`${JSON.stringify(value)} is not an origin (scheme://host[:port])`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${JSON.stringify(value)}: an origin is http or https`);
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash || text.endsWith('?') || text.endsWith('#'))
    throw new TypeError(`${JSON.stringify(value)} is not an origin: no path, query or credentials (scheme://host[:port])`);
  return url.origin;
}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/i;

function headerList(name: string, list: readonly string[] | undefined, fallback: readonly string[]): string {
  const names = list ?? fallback;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && HEADER_NAME.test(n)))
    throw new TypeError(`${name} must be a list of header names`);
  return names.map((n) => n.toLowerCase()).join(', ');
}

/** The options with their defaults filled, checked once at start-up (a bad one throws a TypeError naming it). */
export function normalizeCorsOptions(options: CorsOptions = {}) {
  const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0 || maxAgeSeconds > 86_400)
    throw new TypeError('maxAgeSeconds must be an integer from 0 to 86400');
  return {
    origins: new Set((options.origins ?? []).map(normalizeOrigin)),
    allowedHeaders: headerList('allowedHeaders', options.allowedHeaders, DEFAULT_ALLOWED_HEADERS),
    exposedHeaders: headerList('exposedHeaders', options.exposedHeaders, DEFAULT_EXPOSED_HEADERS),
    maxAgeSeconds,
  };
}

/** A CORS preflight: the browser asks whether it may send the request it names in `Access-Control-Request-Method`. */
function isPreflight(request: IncomingMessage): boolean {
  return request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
}

/** Adds a token to a `Vary` header's value, once. */
function varyBy(vary: string | undefined, token: string): string {
  if (!vary) return token;
  return vary
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .includes(token.toLowerCase())
    ? vary
    : `${vary}, ${token}`;
}

/**
 * CORS for the listed origins only. A preflight is answered 204 at
 * admission, before authentication (a browser sends no token with it),
 * with the allowed methods, headers and max-age when its origin is
 * listed, and without them (the browser then refuses) when it is not. Every
 * answer to a listed origin — results and refusals alike, so that a page
 * can read a 401's code — carries `Access-Control-Allow-Origin` with that
 * origin; every answer carries `Vary: Origin`. No credentials mode: callers
 * send bearer tokens, never cookies.
 */
export function useCors(options: CorsOptions = {}): GatewayPlugin {
  const { origins, allowedHeaders, exposedHeaders, maxAgeSeconds } = normalizeCorsOptions(options);
  // The listed origin of each request, read once when it arrives.
  const allowed = new WeakMap<RequestContext, string>();
  const preflightAllowed = {
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-allow-headers': allowedHeaders,
    'access-control-max-age': String(maxAgeSeconds),
  };
  if (origins.size === 0) return { name: 'cors', onAdmission: (request) => (isPreflight(request) ? new AdmissionAnswer(204) : undefined) };
  return {
    name: 'cors',
    onRequest(context, request) {
      const origin = request ? header(request, 'origin') : undefined;
      if (origin !== undefined && origins.has(origin)) allowed.set(context, origin);
    },
    onAdmission(request, context) {
      if (!isPreflight(request)) return undefined;
      // The allow headers are added at completion, as on every answer.
      const vary = { vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' };
      return new AdmissionAnswer(204, allowed.has(context) ? { ...preflightAllowed, ...vary } : vary);
    },
    onComplete(context, answer): HttpAnswer {
      const origin = allowed.get(context);
      const headers: Record<string, string> = { ...answer.headers, vary: varyBy(answer.headers.vary, 'Origin') };
      if (origin !== undefined) {
        headers['access-control-allow-origin'] = origin;
        if (answer.status !== 204) headers['access-control-expose-headers'] = exposedHeaders;
      }
      return { ...answer, headers };
    },
  };
}
