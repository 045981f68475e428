import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import type { SqliteDatabase } from './database.js';
import { badUserInput } from './errors.js';
import type { GatewayAssertion } from '../../common/gateway-assertion.js';
import type { DisclosureLog } from '../../common/disclosure.js';
import { sealDocument, type DocumentDraft } from '../../common/documents/document.js';
import { renderQr } from '../../common/documents/qr.js';
import type { SealAuthorityInput } from '../../common/documents/seal-authority.js';
import { buildSealTrustList, ensureSealKey, loadSealSigner, sealTrustListPath, type SealSigner } from '../../common/documents/seal-keys.js';
import { loadSealTrustList, type SealTrustList } from '../../common/documents/seal-trust-list.js';
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

/** What an issuing subgraph's request context carries for documents (the server adds assertion and disclosures). */
export interface IssuingContext {
  issued: IssuedDocumentStore;
  seals: SealRegistry;
  assertion: GatewayAssertion;
  disclosed: DisclosureLog;
}

/** The per-process parts of an issuing context: the documents table and the seal keys of the data folder. */
export function openIssuing(db: SqliteDatabase, dataDir: string): Pick<IssuingContext, 'issued' | 'seals'> {
  return { issued: createIssuedDocumentStore(db), seals: createSealRegistry(dataDir) };
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

/** The live-status entity of document types, resolved from the domain's own table. */
export function documentStatusResolvers(...types: string[]) {
  return {
    __resolveReference: async (ref: { serial: string }, ctx: { issued: IssuedDocumentStore }) => {
      const [row] = ctx.issued.bySerials([ref.serial]);
      return row && types.includes(row.type) ? row : null;
    },
    revokedAt: (row: IssuedDocumentRow) => row.revoked_at,
    revocationReason: (row: IssuedDocumentRow) => row.revocation_reason,
    supersededBy: (row: IssuedDocumentRow) => row.superseded_by,
  };
}
