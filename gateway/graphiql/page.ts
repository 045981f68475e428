import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, preferredMediaType } from '../../common/http/media-types.js';
import type { StaticFile } from '../../common/http/server.js';

/**
 * The query IDE: GraphiQL, from its npm package, served by the gateway
 * itself — no CDN, no other origin. GraphiQL 4 is the last major version
 * with a build that runs in a browser without a bundler (UMD, on React 18's
 * UMD builds; GraphiQL 5 is ES modules and Monaco workers only), so those
 * files are served as they are from node_modules, with a start script of
 * our own (`start.js`) instead of an inline one: the page's
 * Content-Security-Policy runs no inline script and loads nothing from
 * elsewhere. The page is public and carries no data; every request the IDE
 * makes is an ordinary GraphQL request, authenticated and audited.
 */

/** Where the IDE's files live, next to the endpoint (relative links from the page at /graphql). */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/';

/** Nothing but the gateway's own scripts, styles and endpoint; images and fonts inlined in GraphiQL's stylesheet. */
export const GRAPHIQL_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface GraphiQLOptions {
  /** The GraphQL endpoint, where the page is served (to a browser asking for HTML). */
  graphqlPath: string;
}

const require = createRequire(import.meta.url);

/** A file of an npm package (its `exports` may not name it, so it is found from the package's folder). */
function packageFile(name: string, file: string): Buffer {
  return readFileSync(join(dirname(require.resolve(`${name}/package.json`)), file));
}

const PAGE_STYLE = 'html, body, #graphiql { height: 100%; margin: 0; }\n';

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>GraphiQL · 跨省通办 federation gateway</title>
    <link rel="stylesheet" href="graphiql/graphiql.css">
    <link rel="stylesheet" href="graphiql/page.css">
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script src="graphiql/react.js"></script>
    <script src="graphiql/react-dom.js"></script>
    <script src="graphiql/graphiql.js"></script>
    <script src="graphiql/start.js"></script>
  </body>
</html>
`;

const SHARED = { 'x-content-type-options': 'nosniff' };
const script = (body: Buffer): StaticFile => ({
  headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600', ...SHARED },
  body,
});
const style = (body: Buffer): StaticFile => ({
  headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600', ...SHARED },
  body,
});

/** What a browser navigating to the endpoint asks for, beside the GraphQL response types a client asks for. */
const PAGE_TYPES = [APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, 'text/html'] as const;

/**
 * The IDE's files, read once at start-up, as the HTTP layer's static files:
 * the page at the endpoint for a request that prefers HTML over JSON (a
 * browser's; a client's `*∕*` gets GraphQL), its scripts and styles under
 * {@link GRAPHIQL_ASSETS_PATH}.
 */
export function graphiqlFiles(options: GraphiQLOptions): (pathname: string, request: IncomingMessage) => StaticFile | undefined {
  const page: StaticFile = {
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': GRAPHIQL_CONTENT_SECURITY_POLICY,
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-cache',
      ...SHARED,
    },
    body: Buffer.from(PAGE, 'utf8'),
  };
  const assets = new Map<string, StaticFile>([
    ['react.js', script(packageFile('react', 'umd/react.production.min.js'))],
    ['react-dom.js', script(packageFile('react-dom', 'umd/react-dom.production.min.js'))],
    ['graphiql.js', script(packageFile('graphiql', 'graphiql.min.js'))],
    ['graphiql.css', style(packageFile('graphiql', 'graphiql.min.css'))],
    ['start.js', script(readFileSync(new URL('./start.js', import.meta.url)))],
    ['page.css', style(Buffer.from(PAGE_STYLE, 'utf8'))],
  ]);
  return (pathname, request) => {
    if (pathname === options.graphqlPath) return preferredMediaType(request.headers.accept, PAGE_TYPES) === 'text/html' ? page : undefined;
    if (!pathname.startsWith(GRAPHIQL_ASSETS_PATH)) return undefined;
    return assets.get(pathname.slice(GRAPHIQL_ASSETS_PATH.length));
  };
}
