import { getHeapStatistics } from 'node:v8';
import type { IntegerRange } from '../../common/settings.js';
import { rejection } from '../errors.js';
import type { GatewayPlugin } from '../pipeline/plugin.js';

export interface MemoryGuardOptions {
  /** New requests are refused while the heap in use is above this, bytes. */
  maxHeapBytes: number;
  /** How often the heap is looked at, ms (requests in between use the last look). Default 50. */
  sampleMs?: number;
  /** The heap in use, bytes (tests). Default V8's `used_heap_size`. */
  heapUsed?: () => number;
}

/** MAX_HEAP_MB: the default and bounds; it must also stay below V8's own heap limit (`heapBoundError`). */
export const MAX_HEAP_MB: IntegerRange = { default: 1536, min: 16, max: 65_536 };

/**
 * Why a heap bound cannot work in this process (null when it can): V8
 * stops the process at its own limit, so the bound must leave room below it.
 */
export function heapBoundError(maxHeapBytes: number, heapLimitBytes = getHeapStatistics().heap_size_limit): string | null {
  const room = Math.floor((heapLimitBytes * 0.8) / 1_048_576);
  return maxHeapBytes > heapLimitBytes * 0.8
    ? `must be at most ${room} (80 % of this process's V8 heap limit; raise it with node --max-old-space-size)`
    : null;
}

/**
 * The heap bound: while the gateway's heap in use is above it, new
 * requests are refused at once with 503 GATEWAY_OVERLOADED and Retry-After
 * (audited like any refusal), and the requests in flight finish. With the
 * operation limits bounding what one request may hold, no request can push
 * the gateway past V8's limit, which would stop it.
 */
export function useMemoryGuard(options: MemoryGuardOptions): GatewayPlugin {
  const { maxHeapBytes } = options;
  const sampleMs = options.sampleMs ?? 50;
  const heapUsed = options.heapUsed ?? (() => getHeapStatistics().used_heap_size);
  if (!Number.isFinite(maxHeapBytes) || maxHeapBytes <= 0) throw new TypeError('memory guard: maxHeapBytes must be a positive number of bytes');
  let lookedAt = Number.NEGATIVE_INFINITY;
  let over = false;
  return {
    name: 'memory-guard',
    onAdmission(_request, context) {
      const now = performance.now();
      if (now - lookedAt >= sampleMs) {
        lookedAt = now;
        const used = heapUsed();
        if (used > maxHeapBytes !== over) {
          over = !over;
          context.logger.warn(
            { heapUsedMb: Math.round(used / 1_048_576), maxHeapMb: Math.round(maxHeapBytes / 1_048_576) },
            over ? 'heap over its bound: refusing new requests' : 'heap back under its bound',
          );
        }
      }
      return over ? rejection('GATEWAY_OVERLOADED', {}, { 'retry-after': '1' }) : undefined;
    },
  };
}
