import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from 'jose';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import { createAuditWriter, type AuditWriter } from '../../gateway/audit/writer.js';
import { type AuditTrail, useAuditTrail } from '../../gateway/plugins/audit-trail.js';
import { createPipeline } from '../../gateway/pipeline/pipeline.js';
import type { HttpAnswer } from '../../common/http/server.js';

const ids = (requestId: string) => ({ requestId, correlationId: null });
const ok = (): HttpAnswer => ({ status: 200, headers: {}, body: '{"data":{}}' });
const logger = pino({ level: 'silent' });

/** The audit trail in a pipeline of its own: `begin` and `complete` as the HTTP layer calls them, and its backlog. */
function auditPipeline(options: Parameters<typeof useAuditTrail>[0]) {
  const trail: AuditTrail = useAuditTrail(options);
  const pipeline = createPipeline([trail], { logger });
  return { begin: pipeline.begin, complete: pipeline.complete, backlog: trail.backlog };
}
type RequestAudit = ReturnType<typeof auditPipeline>;

describe('audit trail plugin', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  function withoutWriter(): RequestAudit {
    return auditPipeline({ writer: null, subjectKey: randomBytes(32), replica: 'gateway-a', logger });
  }

  it('counts the requests begun whose entries have not gone to the writer (the commit siblings), each once', async () => {
    const audit = withoutWriter();
    const drafts = ['r1', 'r2', 'r3'].map((id) => audit.begin(ids(id)));
    expect(audit.backlog()).toBe(3);
    await audit.complete(drafts[1], ok());
    expect(audit.backlog()).toBe(2);
    // An answer that failed to go out is completed again (graphql-http's last resort): counted once all the same.
    await audit.complete(drafts[1], { status: 500, headers: {}, body: '{"errors":[]}' });
    expect(audit.backlog()).toBe(2);
    await audit.complete(drafts[0], ok());
    await audit.complete(drafts[2], ok());
    expect(audit.backlog()).toBe(0);
  });

  it('lets the writer gather concurrent requests into one transaction, and commit as soon as the last one arrives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuasheng-request-audit-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const store: AuditStore = await openAuditStore({ dataDir: dir });
    cleanup.push(() => store.close());
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    let audit: RequestAudit | null = null;
    const writer: AuditWriter = await createAuditWriter({
      store,
      chainId: 'gateway-a',
      signing: { key: privateKey, kid: 'gateway-1' },
      commitDelayMs: 1000,
      commitSiblings: () => audit?.backlog() ?? 0,
    });
    cleanup.push(() => writer.close());
    audit = auditPipeline({ writer, subjectKey: randomBytes(32), replica: 'gateway-a', logger });
    const drafts = ['r1', 'r2', 'r3'].map((id) => audit!.begin(ids(id)));
    const started = performance.now();
    const answers: Promise<HttpAnswer>[] = [];
    for (const draft of drafts) {
      answers.push(audit.complete(draft, ok()));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(writer.stats()).toMatchObject({ commits: 1, records: 3 });
    // The third request was the last one on its way: the transaction did not wait out the delay.
    expect(performance.now() - started).toBeLessThan(900);
    // A request alone is not delayed at all.
    const alone = performance.now();
    expect((await audit.complete(audit.begin(ids('r4')), ok())).status).toBe(200);
    expect(performance.now() - alone).toBeLessThan(900);
    expect(writer.stats()).toMatchObject({ commits: 2, records: 4 });
  });
});
