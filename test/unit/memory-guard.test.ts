import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Rejection } from '../../common/http/server.js';
import { loadGatewayConfig } from '../../gateway/config.js';
import { createPipeline } from '../../gateway/pipeline/pipeline.js';
import { heapBoundError, useMemoryGuard } from '../../gateway/plugins/memory-guard.js';

const logger = pino({ level: 'silent' });
const request = {} as IncomingMessage;

describe('the memory guard', () => {
  it('refuses new requests while the heap is over its bound, and admits them again once it is under', async () => {
    let heap = 100;
    let looks = 0;
    const guard = useMemoryGuard({
      maxHeapBytes: 200,
      sampleMs: 0,
      heapUsed: () => {
        looks++;
        return heap;
      },
    });
    const pipeline = createPipeline([guard], { logger });
    const admit = () => guard.onAdmission!(request, pipeline.begin({ requestId: 'r', correlationId: null }));
    expect(await admit()).toBeUndefined();
    heap = 300;
    const refused = await admit();
    expect(refused).toBeInstanceOf(Rejection);
    expect(refused).toMatchObject({ status: 503, code: 'GATEWAY_OVERLOADED', headers: { 'retry-after': '1' } });
    heap = 150;
    expect(await admit()).toBeUndefined();
    expect(looks).toBe(3);
  });

  it('looks at the heap at most once per sampling period', async () => {
    let looks = 0;
    const guard = useMemoryGuard({
      maxHeapBytes: 200,
      sampleMs: 60_000,
      heapUsed: () => {
        looks++;
        return 100;
      },
    });
    const context = createPipeline([guard], { logger }).begin({ requestId: 'r', correlationId: null });
    for (let i = 0; i < 100; i++) await guard.onAdmission!(request, context);
    expect(looks).toBe(1);
  });

  it('takes a bound only below V8’s own heap limit (MAX_HEAP_MB)', () => {
    expect(heapBoundError(700 * 1_048_576, 1000 * 1_048_576)).toBeNull();
    expect(heapBoundError(900 * 1_048_576, 1000 * 1_048_576)).toMatch(/at most 800 .*--max-old-space-size/);
    expect(() => loadGatewayConfig({ MAX_HEAP_MB: '65536' })).toThrow(/MAX_HEAP_MB/);
    expect(loadGatewayConfig({}).maxHeapMb).toBe(1536);
  });
});
