import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DISCLOSURE_EXTENSION } from '../../common/disclosure.js';
import { Rejection } from '../../common/http/server.js';
import { stripSecurityFeatures } from '../../common/scopes/security-policy.js';
import type { Caller } from '../../gateway/auth/caller.js';
import { createEngine } from '../../gateway/execution/engine.js';
import { createSubgraphFetch } from '../../gateway/execution/subgraph-fetch.js';
import type { GatewayContext, RequestContext } from '../../gateway/pipeline/context.js';
import { createPipeline } from '../../gateway/pipeline/pipeline.js';
import type { GatewayPlugin } from '../../gateway/pipeline/plugin.js';
import { useMasking } from '../../gateway/plugins/masking.js';

const logger = pino({ level: 'silent' });
const ids = (requestId = 'r-1') => ({ requestId, correlationId: null });
const request = { headers: {} } as IncomingMessage;
const caller = {
  subject: 'officer-7',
  organisation: '拉萨市公安局',
  province: '540000',
  issuer: 'https://idp',
  tokenId: 'jti-1',
  scopes: new Set(['household:read']),
} as unknown as Caller;
const admitAnyone: GatewayPlugin = {
  name: 'anyone',
  onAdmission(_request, context) {
    context.caller = caller;
    return undefined;
  },
};

describe('createPipeline', () => {
  it('refuses at start-up a list that cannot run as written, naming the plugin', () => {
    const build = (plugins: unknown[]) => () => createPipeline(plugins as GatewayPlugin[], { logger });
    expect(build([{}])).toThrow(/needs a name/);
    expect(build([{ name: 'a' }, { name: 'a' }])).toThrow(/a is listed twice/);
    expect(build([{ name: 'a', onAdmit() {} }])).toThrow(/gateway plugin a: unknown hook onAdmit/);
    expect(build([{ name: 'a', onRequest: 'yes' }])).toThrow(/a: onRequest must be a function/);
    expect(build([{ name: 'a', after: 'b' }])).toThrow(/a: after must be a list/);
    expect(build([{ name: 'purpose', after: ['scopes'] }, { name: 'scopes' }])).toThrow(/purpose must come after scopes/);
    // A plugin named in `after` but not listed is no dependency; a plugin's own methods beside its hooks are allowed.
    expect(build([{ name: 'purpose', after: ['scopes'], backlog: () => 0 }])).not.toThrow();
    expect(build([{ name: 'scopes' }, { name: 'purpose', after: ['scopes'] }])().plugins).toEqual(['scopes', 'purpose']);
  });

  it('runs each stage in stage order, and the plugins within a stage in list order', async () => {
    const calls: string[] = [];
    const recorder = (name: string): GatewayPlugin => ({
      name,
      onRequest: () => void calls.push(`${name}.request`),
      onAdmission: (_request, context) => {
        calls.push(`${name}.admission`);
        context.caller = caller;
        return undefined;
      },
      onSubgraphRequest: (subgraph, _context, headers) => {
        calls.push(`${name}.fetch`);
        headers[`x-${name}`] = subgraph;
      },
      onComplete: (_context, answer) => {
        calls.push(`${name}.complete`);
        return { ...answer, body: `${answer.body}+${name}` };
      },
    });
    const pipeline = createPipeline([recorder('first'), recorder('second')], { logger });
    const context = pipeline.begin(ids());
    const admitted = await pipeline.admit(request, context);
    expect(admitted).toBe(context);
    expect(pipeline.subgraphHeaders('household', admitted as GatewayContext)).toEqual({
      'content-type': 'application/json',
      'x-first': 'household',
      'x-second': 'household',
    });
    // Completion hands each plugin the previous one's answer.
    expect((await pipeline.complete(context, { status: 200, headers: {}, body: 'answer' })).body).toBe('answer+first+second');
    expect(calls).toEqual([
      'first.request',
      'second.request',
      'first.admission',
      'second.admission',
      'first.fetch',
      'second.fetch',
      'first.complete',
      'second.complete',
    ]);
  });

  it('ends admission at the first rejection: later plugins do not run', async () => {
    const later: string[] = [];
    const refuse = new Rejection(429, 'RATE_LIMITED', 'slow down');
    const pipeline = createPipeline(
      [admitAnyone, { name: 'budget', onAdmission: () => refuse }, { name: 'late', onAdmission: () => void later.push('ran') }],
      { logger },
    );
    expect(await pipeline.admit(request, pipeline.begin(ids()))).toBe(refuse);
    expect(later).toEqual([]);
  });

  it('denies by default: no plugin established a caller, so nobody is admitted; no purpose, no scope; identifiers masked', async () => {
    const pipeline = createPipeline([{ name: 'idle', onAdmission: () => undefined }], { logger });
    const context = pipeline.begin(ids());
    expect(context.purpose.effectiveScopes.size).toBe(0);
    expect(context.maskIdentifiers).toBe(true);
    const refused = await pipeline.admit(request, context);
    expect(refused).toBeInstanceOf(Rejection);
    expect(refused).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('masking is lifted only by pii:unmasked among the effective scopes', () => {
    const masking = useMasking();
    const withScopes = (scopes: string[]) => {
      const context = createPipeline([], { logger }).begin(ids()) as GatewayContext;
      context.purpose = { matter: null, caseNumber: null, effectiveScopes: new Set(scopes) };
      masking.onAuthorise!({} as never, context);
      return context.maskIdentifiers;
    };
    expect(withScopes(['household:read'])).toBe(true);
    expect(withScopes(['household:read', 'pii:unmasked'])).toBe(false);
  });
});

describe('the subgraph-fetch stage', () => {
  it("lets plugins read a subgraph's extensions, and never passes the disclosure report on, whatever the plugins are", () => {
    const seen: unknown[] = [];
    const reader: GatewayPlugin = { name: 'reader', onSubgraphResponse: (_s, _c, extensions) => void seen.push(extensions[DISCLOSURE_EXTENSION]) };
    for (const plugins of [[], [reader]]) {
      const pipeline = createPipeline(plugins, { logger });
      const stage = createSubgraphFetch({ pipeline, logger });
      const context = pipeline.begin(ids()) as GatewayContext;
      const report = { Person: ['110101199003074518'] };
      expect(stage.received('household', context, { [DISCLOSURE_EXTENSION]: report })).toBeUndefined();
      expect(stage.received('household', context, { [DISCLOSURE_EXTENSION]: report, tracing: 1 })).toEqual({ tracing: 1 });
      expect(stage.received('household', context, undefined)).toBeUndefined();
    }
    expect(seen).toEqual([{ Person: ['110101199003074518'] }, { Person: ['110101199003074518'] }]);
  });
});

describe('the engine runs the plugins’ stages', () => {
  const supergraph = stripSecurityFeatures(readFileSync('schema/supergraph.graphql', 'utf8'));
  const query = '{ person(idNumber: "110101199003074518") { name } }';
  const post = { method: 'POST', contentType: 'application/json', body: { query }, search: '', accept: undefined };

  function engineWith(plugins: GatewayPlugin[]) {
    const pipeline = createPipeline([admitAnyone, ...plugins], { logger });
    // Nothing listens there: a fetch would answer SUBGRAPH_UNAVAILABLE.
    const subgraphUrls = { household: 'http://127.0.0.1:9/', credit: 'http://127.0.0.1:9/', licence: 'http://127.0.0.1:9/' };
    const engine = createEngine({
      subgraphTimeoutMs: 1000,
      subgraphUrls,
      pipeline,
      executor: 'native',
      fetch: createSubgraphFetch({ pipeline, logger }),
      introspection: false,
    });
    engine.load(supergraph, 1);
    return { engine, pipeline };
  }

  async function run(plugins: GatewayPlugin[]) {
    const { engine, pipeline } = engineWith(plugins);
    const context = (await pipeline.admit(request, pipeline.begin(ids()))) as GatewayContext;
    const result = await engine.handle(post, context);
    await engine.close();
    return { status: result.status, body: JSON.parse(result.body), context };
  }

  it('refuses to run an operation no plugin authorised (deny by default), calling no subgraph', async () => {
    const fetched: string[] = [];
    const { status, body } = await run([{ name: 'watch', onSubgraphRequest: (subgraph) => void fetched.push(subgraph) }]);
    expect(status).toBe(500);
    expect(body.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(fetched).toEqual([]);
  });

  it('ends the request at an answer from the operation stage; the answer still goes through the response stage', async () => {
    const stages: string[] = [];
    const responses: unknown[] = [];
    const limit: GatewayPlugin = {
      name: 'limit',
      onOperation: (operation, context: RequestContext) => {
        stages.push(`operation ${operation.operation.operation} ${context.operation.hash?.length}`);
        return { status: 400, payload: { errors: [{ message: 'too deep', extensions: { code: 'BAD_REQUEST' } }] } };
      },
      onAuthorise: () => void stages.push('authorise'),
      onResponse: (answer) => void responses.push(answer.payload.errors?.[0]?.extensions?.code),
    };
    const { status, body } = await run([limit]);
    expect(status).toBe(400);
    expect(body).toEqual({ errors: [{ message: 'too deep', extensions: { code: 'BAD_REQUEST' } }] });
    expect(stages).toEqual(['operation query 64']);
    expect(responses).toEqual(['BAD_REQUEST']);
  });

  it('lets a document hook supply the query text before it is parsed, or answer; without one, a document id is not supported', async () => {
    const byId = { ...post, body: { documentId: 'sha256:abc' } };
    const supplying: GatewayPlugin = {
      name: 'documents',
      onDocument: (request) => {
        if (request.documentId === 'sha256:abc') request.query = 'query Named { __typename }';
        else return { status: 400, payload: { errors: [{ message: 'no', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] } };
        return undefined;
      },
    };
    const supplied = engineWith([supplying]);
    const context = (await supplied.pipeline.admit(request, supplied.pipeline.begin(ids()))) as GatewayContext;
    await supplied.engine.handle(byId, context);
    expect(context.operation).toMatchObject({ name: 'Named', type: 'query' });
    const refused = await supplied.engine.handle({ ...post, body: { documentId: 'other' } }, context);
    expect([refused.status, JSON.parse(refused.body).errors[0].extensions.code]).toEqual([400, 'PERSISTED_QUERY_NOT_FOUND']);
    await supplied.engine.close();

    const plain = engineWith([]);
    const result = await plain.engine.handle(byId, (await plain.pipeline.admit(request, plain.pipeline.begin(ids()))) as GatewayContext);
    expect(JSON.parse(result.body).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
    await plain.engine.close();
  });
});
