/**
 * Remembers tokens that passed verification, so a client that sends the same
 * token on every request costs one signature check, not one per request.
 * Keys are SHA-256 digests of the token: the cache never holds a usable
 * token, and its memory does not grow with token size.
 */
import { createHash } from 'node:crypto';
import type { Caller } from './caller.js';

interface Entry {
  caller: Caller;
  /** Epoch ms after which the entry is no longer served, whatever the token's exp. */
  until: number;
}

/** A bounded map from token digest to verified caller, least recently used evicted first. */
export class VerificationCache {
  // A Map iterates in insertion order; re-inserting on every hit makes its
  // first key the least recently used.
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  /** The digest a token is cached under. */
  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached caller, or `undefined` when absent or past its cache lifetime.
   * Token expiry is the caller's check, with its clock tolerance.
   */
  get(key: string, nowMs: number): Caller | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (nowMs >= entry.until) return undefined;
    this.entries.set(key, entry);
    return entry.caller;
  }

  /** Caches a verified caller until the earlier of its expiry (plus `graceMs`) and now + TTL. */
  set(key: string, caller: Caller, nowMs: number, graceMs: number): void {
    if (this.maxEntries === 0) return;
    const until = Math.min(caller.expiresAt * 1000 + graceMs, nowMs + this.ttlMs);
    this.entries.delete(key);
    this.entries.set(key, { caller, until });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
