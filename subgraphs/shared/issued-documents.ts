import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import { ERRORS } from '../../common/errors.js';
import type { SqliteDatabase } from './database.js';
import { badUserInput, requireIdNumber } from './errors.js';
import type { GatewayAssertion } from '../../common/gateway-assertion.js';
import type { DisclosureLog } from '../../common/disclosure.js';
import { sealDocument, type DocumentDraft } from '../../common/documents/document.js';
import { renderQr } from '../../common/documents/qr.js';
import type { SealAuthorityInput } from '../../common/documents/seal-authority.js';
import {
  buildSealTrustList,
  ensureSealKey,
  loadHolderBindingKey,
  loadSealSigner,
  sealTrustListPath,
  type SealSigner,
} from '../../common/documents/seal-keys.js';
import { loadSealTrustList, type SealTrustList } from '../../common/documents/seal-trust-list.js';
import { bindingMatches, keyedBindingMatches } from '../../common/documents/holder-binding.js';
import { readDocumentPayload } from '../../common/documents/payload.js';
import { decompressPayload } from '../../common/documents/payload-compression.js';
import { parseDocumentToken } from '../../common/documents/token.js';
import { provinceCodeOf } from '../../common/regions.js';

/**
 * Issuing sealed documents from a domain subgraph, and keeping their live
 * status (valid, revoked, superseded) in the domain's own `issued_documents`
 * table, where verifications anywhere read it through the federation.
 */

export interface IssuedDocumentRow {
  serial: string;
  type: string;
  authority_id: string;
  authority_province: string;
  holder_key: string;
  issued_at: string;
  valid_until: string | null;
  status: 'VALID' | 'REVOKED' | 'SUPERSEDED';
  revoked_at: string | null;
  revocation_reason: string | null;
  superseded_by: string | null;
  token: string;
}

/** The `IssuedDocument` value the schemas return. */
export interface IssuedDocumentValue {
  serial: string;
  type: string;
  issuer: string;
  issuedAt: string;
  validUntil: string | null;
  token: string;
  qrText: string;
}

export function createIssuedDocumentStore(db: SqliteDatabase) {
  const insert = db.prepare(
    `INSERT INTO issued_documents (serial, type, authority_id, authority_province, holder_key, issued_at, valid_until, status, token)
     VALUES (@serial, @type, @authority_id, @authority_province, @holder_key, @issued_at, @valid_until, 'VALID', @token)`,
  );
  // A new issue replaces only what the same authority issued before: a certificate another authority sealed
  // (the agency of the province the holder left, say) is that authority's to revoke, and stays in force.
  const supersede = db.prepare(
    `UPDATE issued_documents SET status = 'SUPERSEDED', superseded_by = @serial
      WHERE holder_key = @holder_key AND type = @type AND authority_id = @authority_id AND status = 'VALID' AND serial <> @serial`,
  );
  const byHolder = db.prepare<[string, string], IssuedDocumentRow>(
    "SELECT * FROM issued_documents WHERE holder_key = ? AND type = ? AND status = 'VALID' ORDER BY issued_at DESC LIMIT 1",
  );
  const bySerials = db.prepare<[string], IssuedDocumentRow>('SELECT * FROM issued_documents WHERE serial IN (SELECT value FROM json_each(?))');
  const revoke = db.prepare(
    "UPDATE issued_documents SET status = 'REVOKED', revoked_at = @at, revocation_reason = @reason WHERE serial = @serial AND status <> 'REVOKED'",
  );
  const failuresOn = db.prepare<[string, string], { failures: number }>('SELECT failures FROM holder_check_failures WHERE serial = ? AND day = ?');
  const failed = db.prepare(
    `INSERT INTO holder_check_failures (serial, day, failures) VALUES (?, ?, 1)
     ON CONFLICT (serial, day) DO UPDATE SET failures = failures + 1`,
  );
  // Issuing and superseding are one transaction: never two VALID issues of one document by one authority.
  const record = db.transaction((row: Omit<IssuedDocumentRow, 'status' | 'revoked_at' | 'revocation_reason' | 'superseded_by'>) => {
    insert.run(row);
    supersede.run({ serial: row.serial, holder_key: row.holder_key, type: row.type, authority_id: row.authority_id });
  });
  return {
    record,
    currentFor: (holderKey: string, type: string) => byHolder.get(holderKey, type) ?? null,
    bySerials: (serials: string[]) => bySerials.all(JSON.stringify(serials)),
    revoke: (serial: string, reason: string, at: string) => revoke.run({ serial, reason, at }).changes > 0,
    /** Wrong ID numbers tried against the document on `day` (YYYY-MM-DD, UTC). */
    holderCheckFailures: (serial: string, day: string) => failuresOn.get(serial, day)?.failures ?? 0,
    holderCheckFailed: (serial: string, day: string) => void failed.run(serial, day),
  };
}

export type IssuedDocumentStore = ReturnType<typeof createIssuedDocumentStore>;

/** Serial numbers: prefix, region, year, random — e.g. SB-430102-2026-7F3A9C21. */
export function newSerial(prefix: string, regionCode: string, now = new Date()): string {
  return `${prefix}-${regionCode}-${now.getUTCFullYear()}-${randomBytes(4).toString('hex').toUpperCase()}`;
}

/**
 * Seal signers per authority, created on first use. A new authority's key is
 * generated into the data folder and the seal trust list rebuilt, so that
 * verifiers know the key before any document it sealed reaches them.
 */
export function createSealRegistry(dataDir: string) {
  const signers = new Map<string, Promise<SealSigner>>();
  return (authority: SealAuthorityInput): Promise<SealSigner> => {
    let signer = signers.get(authority.id);
    if (!signer) {
      signer = (async () => {
        const info = await ensureSealKey(dataDir, { ...authority, province: authority.province ?? provinceCodeOf(authority.id.slice(0, 6)) });
        if (info.created) await buildSealTrustList(dataDir);
        return loadSealSigner(dataDir, authority.id);
      })();
      signer.catch(() => signers.delete(authority.id));
      signers.set(authority.id, signer);
    }
    return signer;
  };
}

export type SealRegistry = ReturnType<typeof createSealRegistry>;

/**
 * The issuing domain's check of a candidate ID number against one of its
 * documents: format 2 with the authority's secret holder-binding key (which
 * only this domain holds), format 1 as anyone could. Null when the stored
 * document cannot be read or its authority has no key.
 */
export function createHolderCheck(dataDir: string) {
  const keys = new Map<string, Uint8Array>();
  return (row: IssuedDocumentRow, candidate: string): boolean | null => {
    const parsed = parseDocumentToken(row.token);
    if ('code' in parsed) return null;
    const read = readDocumentPayload(decompressPayload(parsed.payloadBytes));
    if ('problem' in read) return null;
    const { binding, salt } = read.payload.holder;
    if (read.payload.v === 1) return bindingMatches(binding, salt, candidate);
    let key = keys.get(row.authority_id);
    if (!key) {
      try {
        key = loadHolderBindingKey(dataDir, row.authority_id);
      } catch {
        return null;
      }
      keys.set(row.authority_id, key);
    }
    return keyedBindingMatches(key, binding, salt, candidate);
  };
}

export type HolderCheck = ReturnType<typeof createHolderCheck>;

/** What an issuing subgraph's request context carries for documents (the server adds assertion and disclosures). */
export interface IssuingContext {
  issued: IssuedDocumentStore;
  seals: SealRegistry;
  holders: HolderCheck;
  assertion: GatewayAssertion;
  disclosed: DisclosureLog;
}

/** The per-process parts of an issuing context: the documents table and the seal keys of the data folder. */
export function openIssuing(db: SqliteDatabase, dataDir: string): Pick<IssuingContext, 'issued' | 'seals' | 'holders'> {
  return { issued: createIssuedDocumentStore(db), seals: createSealRegistry(dataDir), holders: createHolderCheck(dataDir) };
}

/**
 * Seals a document with its authority's key and records it as the holder's
 * valid one of that authority: earlier documents of the same type the same
 * authority issued to the holder become SUPERSEDED; other authorities' are
 * left as they are.
 */
export async function issueSealedDocument(options: {
  store: IssuedDocumentStore;
  seals: SealRegistry;
  authority: SealAuthorityInput;
  holderKey: string;
  draft: DocumentDraft;
}): Promise<IssuedDocumentValue> {
  const signer = await options.seals(options.authority);
  const sealed = await sealDocument(signer, options.draft);
  const { payload } = sealed;
  options.store.record({
    serial: payload.serial,
    type: payload.type,
    authority_id: payload.issuer.id,
    authority_province: payload.issuer.province,
    holder_key: options.holderKey,
    issued_at: payload.issuedAt,
    valid_until: payload.validUntil,
    token: sealed.token,
  });
  return {
    serial: payload.serial,
    type: payload.type,
    issuer: payload.issuer.name,
    issuedAt: payload.issuedAt,
    validUntil: payload.validUntil,
    token: sealed.token,
    qrText: sealed.qrText,
  };
}

/**
 * Revokes a document of this domain. Only an authority of the issuing
 * province may: the asserted caller's province must be the document's.
 */
export function revokeIssuedDocument(
  store: IssuedDocumentStore,
  type: string,
  serial: string,
  reason: string,
  assertion: GatewayAssertion,
): IssuedDocumentRow {
  const trimmed = reason.trim();
  if (trimmed.length < 2 || trimmed.length > 200) throw badUserInput('Argument reason must be 2-200 characters.', 'reason');
  const [row] = store.bySerials([serial]);
  if (!row || row.type !== type) throw badUserInput(`No ${type} document with this serial was issued here.`, 'serial');
  if (row.authority_province !== assertion.caller.province) {
    throw new GraphQLError('Only an authority of the issuing province may revoke this document.', { extensions: { code: 'FORBIDDEN' } });
  }
  store.revoke(serial, trimmed, new Date().toISOString());
  return store.bySerials([serial])[0];
}

/** The seal trust list of the data folder, re-read when the file changes (a new authority, a rotation). */
export function sealTrustListLoader(dataDir: string): () => Promise<SealTrustList> {
  const file = sealTrustListPath(dataDir);
  let cached: { mtimeMs: number; list: Promise<SealTrustList> } | undefined;
  return async () => {
    let mtimeMs = -1;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      await buildSealTrustList(dataDir); // no authority has sealed yet: an empty list
      mtimeMs = statSync(file).mtimeMs;
    }
    if (!cached || cached.mtimeMs !== mtimeMs) cached = { mtimeMs, list: loadSealTrustList(file) };
    return cached.list;
  };
}

/** Resolvers shared by the issuing subgraphs: the QR image, and the live-status records. */
export const issuedDocumentResolvers = {
  IssuedDocument: {
    qrPng: (document: IssuedDocumentValue) => renderQr(document.qrText, { format: 'png-data-url' }),
  },
};

/** Wrong ID numbers the issuing domain tests against one document in a UTC day before it stops answering. */
export const HOLDER_CHECK_FAILURES_PER_DAY = 5;

/** The live-status entity of document types, resolved from the domain's own table. */
export function documentStatusResolvers(...types: string[]) {
  return {
    __resolveReference: async (ref: { serial: string }, ctx: { issued: IssuedDocumentStore }) => {
      const [row] = ctx.issued.bySerials([ref.serial]);
      return row && types.includes(row.type) ? row : null;
    },
    // The online holder check: an ID number a notary read off an ID card, tested by the one domain that can.
    holderIdNumberMatches: (
      row: IssuedDocumentRow,
      args: { idNumber?: string | null },
      ctx: Pick<IssuingContext, 'holders' | 'disclosed' | 'issued'>,
    ) => {
      if (args.idNumber === undefined || args.idNumber === null) return null;
      const candidate = requireIdNumber(args.idNumber, 'idNumber');
      ctx.disclosed.set(`Person:${candidate}`, { type: 'Person', key: candidate });
      // A few wrong numbers a day are mistakes at a counter; more are someone guessing the masked digits.
      const day = new Date().toISOString().slice(0, 10);
      if (ctx.issued.holderCheckFailures(row.serial, day) >= HOLDER_CHECK_FAILURES_PER_DAY) {
        throw new GraphQLError(ERRORS.HOLDER_CHECK_LIMITED.message, { extensions: { code: 'HOLDER_CHECK_LIMITED' } });
      }
      const matches = ctx.holders(row, candidate);
      if (matches === false) ctx.issued.holderCheckFailed(row.serial, day);
      return matches;
    },
    revokedAt: (row: IssuedDocumentRow) => row.revoked_at,
    revocationReason: (row: IssuedDocumentRow) => row.revocation_reason,
    supersededBy: (row: IssuedDocumentRow) => row.superseded_by,
  };
}
