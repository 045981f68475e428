import type { IncomingMessage } from 'node:http';
import { mediaTypeOf } from '../../common/http/media-types.js';
import { rejection } from '../errors.js';
import type { GatewayPlugin } from '../pipeline/plugin.js';

/**
 * Headers that prove nothing about who sent a request: a browser sends them
 * on a cross-site request it does not preflight (the CORS-safelisted ones,
 * and those it sets itself or forbids a page to set), or a proxy, load
 * balancer or tracer adds them on the way. A name ending in `*` is a prefix.
 */
export const AMBIENT_HEADERS: readonly string[] = [
  // CORS-safelisted request headers: a page may set them without a preflight.
  'accept',
  'accept-language',
  'content-language',
  'content-type',
  'range',
  // Set by the browser itself, or forbidden to pages (Fetch's forbidden request headers), client hints, revalidation.
  'accept-charset',
  'accept-encoding',
  'access-control-request-headers',
  'access-control-request-method',
  'cache-control',
  'connection',
  'content-length',
  'cookie',
  'cookie2',
  'date',
  'device-memory',
  'dnt',
  'downlink',
  'dpr',
  'ect',
  'expect',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'keep-alive',
  'origin',
  'pragma',
  'priority',
  'purpose',
  'referer',
  'rtt',
  'save-data',
  'service-worker-navigation-preload',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'upgrade-insecure-requests',
  'user-agent',
  'via',
  'viewport-width',
  'width',
  'proxy-*',
  'sec-*',
  // Added on the way by proxies, load balancers and tracers.
  'b3',
  'baggage',
  'cdn-loop',
  'forwarded',
  'traceparent',
  'tracestate',
  'true-client-ip',
  'x-amzn-trace-id',
  'x-client-ip',
  'x-cloud-trace-context',
  'x-correlation-id',
  'x-real-ip',
  'x-request-id',
  'cf-*',
  'x-b3-*',
  'x-envoy-*',
  'x-forwarded-*',
];

export interface CsrfPreventionOptions {
  /**
   * Headers that do not show a request was preflighted (see
   * {@link AMBIENT_HEADERS}, the default). A proxy in front of the gateway
   * that adds a header of its own to every request must be named here, e.g.
   * `[...AMBIENT_HEADERS, 'x-edge-region']`: otherwise that header would let
   * a forged request through.
   */
  ambientHeaders?: readonly string[];
}

/** The content types of a form or of a request a page may send without a preflight. */
const SIMPLE_CONTENT_TYPES: ReadonlySet<string> = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

export function normalizeCsrfPreventionOptions(options: CsrfPreventionOptions = {}) {
  const names = options.ambientHeaders ?? AMBIENT_HEADERS;
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string' && /^[a-z0-9!#$%&'*+.^_`|~-]+$/i.test(name)))
    throw new TypeError('ambientHeaders must be a list of header names (a name ending in * is a prefix)');
  const exact = new Set(names.filter((n) => !n.endsWith('*')).map((n) => n.toLowerCase()));
  const prefixes = names.filter((n) => n.endsWith('*')).map((n) => n.slice(0, -1).toLowerCase());
  return { isAmbient: (name: string) => exact.has(name) || prefixes.some((prefix) => name.startsWith(prefix)) };
}

/**
 * Whether a browser may send this request cross-site without asking the
 * gateway first (a CORS "simple" request): a GET or HEAD, or a POST of a
 * form or of plain text (or of no stated type). Any other method or content
 * type is preflighted, and the preflight only lets listed origins through.
 */
export function isSimpleRequest(request: IncomingMessage): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  if (request.method !== 'POST') return false;
  const contentType = request.headers['content-type'];
  return contentType === undefined || SIMPLE_CONTENT_TYPES.has(mediaTypeOf(contentType));
}

/**
 * CSRF prevention, as Apollo Router and Apollo Server do it: a simple
 * request (see {@link isSimpleRequest}) is refused with 400 CSRF_PREVENTED
 * before it runs, unless it carries a header a browser would have had to
 * preflight — a bearer `Authorization` (a browser attaches Basic or
 * Negotiate credentials by itself, never a bearer token),
 * `apollo-require-preflight`, `x-apollo-operation-name`, `x-matter-code` or
 * any other header not in `ambientHeaders`. A forged request from another
 * site then cannot run even a query whose side effects (an audit record,
 * a budget spent) the caller did not intend.
 */
export function useCsrfPrevention(options: CsrfPreventionOptions = {}): GatewayPlugin {
  const { isAmbient } = normalizeCsrfPreventionOptions(options);
  const preflighted = (request: IncomingMessage): boolean => {
    for (const [name, value] of Object.entries(request.headers)) {
      if (name === 'authorization') {
        if (/^bearer\s/i.test(Array.isArray(value) ? (value[0] ?? '') : (value ?? ''))) return true;
      } else if (!isAmbient(name)) return true;
    }
    return false;
  };
  return {
    name: 'csrf-prevention',
    onAdmission(request, context) {
      if (!isSimpleRequest(request) || preflighted(request)) return undefined;
      context.logger.info({ method: request.method }, 'request refused: a simple request without a preflight header (CSRF prevention)');
      return rejection('CSRF_PREVENTED');
    },
  };
}
