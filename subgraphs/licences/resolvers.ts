import { authority, regionOf } from '../shared/places.js';
import { groupLoader, rowLoader } from '../shared/loaders.js';
import { DateScalar, yuan } from '../shared/scalars.js';
import { readFile } from 'node:fs/promises';
import { sealTrustListPath } from '../../common/documents/seal-keys.js';
import { badUserInput, requireCreditCode, requireIdNumber, requireKeyCount } from '../shared/errors.js';
import type { DocumentDraft } from '../../common/documents/document.js';
import { toQrText } from '../../common/documents/qr.js';
import { verifyDocument } from '../../common/documents/verify.js';
import type { SealTrustList } from '../../common/documents/seal-trust-list.js';
import { maskIdNumber } from '../../common/identifiers.js';
import {
  documentStatusResolvers,
  issuedDocumentResolvers,
  issueSealedDocument,
  newSerial,
  revokeIssuedDocument,
  sealTrustListLoader,
  openIssuing,
  type IssuingContext,
} from '../shared/issued-documents.js';
import type { SubgraphDomain } from '../shared/domain.js';
import { createLicenceStore, type LicenceEventRow, type LicenceRow, type LicenceStore, type OrganisationRow } from './store.js';

function createLoaders(store: LicenceStore) {
  return {
    organisation: rowLoader(store.organisations, (r) => r.credit_code),
    licencesOfHolder: groupLoader(store.licencesOfHolders, (r) => r.holder_id),
    licence: rowLoader(store.licencesByIdentifiers, (r) => r.identifier),
    events: groupLoader(store.eventsOfLicences, (r) => r.identifier),
  };
}

interface Context extends IssuingContext {
  loaders: ReturnType<typeof createLoaders>;
  trustList: () => Promise<SealTrustList>;
  sealTrustListText: () => Promise<string>;
}

/** The authority kind that seals each licence type (its issuer), for the seal key's id. */
const SEALING_KIND: Record<string, string> = {
  BUSINESS_LICENCE: 'market-regulation',
  DRIVING_LICENCE: 'traffic-police',
  PROFESSIONAL_QUALIFICATION: 'human-resources',
};

/** Which domain keeps the live status of each document type (the union member the gateway routes to). */
const STATUS_RECORD_TYPE: Record<string, string> = {
  SOCIAL_INSURANCE_PARTICIPATION: 'ParticipationCertificate',
  PROVIDENT_FUND_DEPOSIT: 'DepositCertificate',
  BUSINESS_LICENCE: 'LicenceDocument',
  DRIVING_LICENCE: 'LicenceDocument',
  PROFESSIONAL_QUALIFICATION: 'LicenceDocument',
};

/**
 * The live-status record of a verified document: other domains' by
 * reference (the gateway fetches it from the issuer), this domain's own
 * read here, as the gateway will not ask a subgraph for its own entity.
 */
function statusRecord(recordType: string, serial: string, ctx: Context) {
  if (recordType !== 'LicenceDocument') return { __typename: recordType, serial };
  const [row] = ctx.issued.bySerials([serial]);
  return row ? { __typename: recordType, ...row } : null;
}

/** A licence as its sealed document: the valid one on record, or sealed now on first request. */
async function licenceDocument(licence: LicenceRow, ctx: Context) {
  const existing = ctx.issued.currentFor(licence.identifier, licence.type);
  if (existing) {
    return {
      serial: existing.serial,
      type: existing.type,
      issuer: licence.issuer_name,
      issuedAt: existing.issued_at,
      validUntil: existing.valid_until,
      token: existing.token,
      qrText: toQrText(existing.token),
    };
  }
  if (licence.status !== 'VALID') return null; // a revoked or expired licence is not sealed anew
  const holder =
    licence.holder_kind === 'ORGANISATION'
      ? { name: licence.holder_name, creditCode: licence.holder_id }
      : { name: licence.holder_name, idNumber: licence.holder_id };
  return issueSealedDocument({
    store: ctx.issued,
    seals: ctx.seals,
    authority: { id: `${licence.issuer_region}-${SEALING_KIND[licence.type]}`, name: licence.issuer_name },
    holderKey: licence.identifier,
    draft: {
      type: licence.type as DocumentDraft['type'],
      serial: newSerial('ZZ', licence.issuer_region),
      holder,
      validFrom: `${licence.valid_from}T00:00:00.000Z`,
      validUntil: licence.valid_until ? `${licence.valid_until}T23:59:59.999Z` : null,
      content: {
        title: licence.title,
        number: licence.holder_kind === 'PERSON' ? maskIdNumber(licence.number) : licence.number,
        licenceIdentifier: licence.identifier,
        issuedOn: licence.issued_on,
        attributes: JSON.parse(licence.attributes),
      },
    },
  });
}

async function licencesOf(holderId: string, type: string | undefined, ctx: Context): Promise<LicenceRow[]> {
  const all = await ctx.loaders.licencesOfHolder.load(holderId);
  return type ? all.filter((l) => l.type === type) : all;
}

/** The electronic-licence subgraph: licences of persons and organisations; the organisation register. */
export const licencesDomain: SubgraphDomain<Context> = {
  name: 'licences',
  writable: true,
  createContext(db, environment) {
    const store = createLicenceStore(db);
    const issuing = openIssuing(db, environment.dataDir);
    const trustList = sealTrustListLoader(environment.dataDir);
    const sealTrustListText = async () => {
      await trustList(); // builds the file if no authority has sealed yet
      return readFile(sealTrustListPath(environment.dataDir), 'utf8');
    };
    return () => ({ loaders: createLoaders(store), ...issuing, trustList, sealTrustListText }) as unknown as Context;
  },
  resolvers: {
    Date: DateScalar,
    ...issuedDocumentResolvers,
    LicenceDocument: documentStatusResolvers('BUSINESS_LICENCE', 'DRIVING_LICENCE', 'PROFESSIONAL_QUALIFICATION'),
    DocumentRecord: {
      __resolveType: (record: { __typename: string }) => record.__typename,
    },
    Mutation: {
      revokeLicenceDocument: (_: unknown, args: { serial: string; reason: string }, ctx: Context) => {
        const [row] = ctx.issued.bySerials([args.serial]);
        return revokeIssuedDocument(ctx.issued, row?.type ?? 'UNKNOWN', args.serial, args.reason, ctx.assertion);
      },
    },
    Query: {
      async verifyDocument(_: unknown, args: { document: string; holderName?: string | null; holderIdNumber?: string | null }, ctx: Context) {
        if (args.document.length > 16_384) throw badUserInput('Argument document is longer than any sealed document.', 'document');
        const holderIdNumber = args.holderIdNumber ? requireIdNumber(args.holderIdNumber, 'holderIdNumber') : null;
        if (holderIdNumber) ctx.disclosed.set(`Person:${holderIdNumber}`, { type: 'Person', key: holderIdNumber });
        const holder = args.holderName || holderIdNumber ? { name: args.holderName ?? undefined, idNumber: holderIdNumber ?? undefined } : undefined;
        const result = await verifyDocument(args.document, await ctx.trustList(), { holder });
        const recordType = result.document && result.integrity.signatureValid ? STATUS_RECORD_TYPE[result.document.type] : undefined;
        return {
          verdict: result.verdict,
          code: result.code,
          signatureValid: result.integrity.signatureValid,
          contentIntact: result.integrity.contentIntact,
          issuer: result.issuer,
          type: result.document?.type ?? null,
          serial: result.document?.serial ?? null,
          issuedAt: result.document?.issuedAt ?? null,
          validFrom: result.validity?.from ?? null,
          validUntil: result.validity?.until ?? null,
          validityStatus: result.validity?.status ?? null,
          content: result.content ? JSON.stringify(result.content) : null,
          holderName: result.holder?.name ?? null,
          holderIdMasked: result.holder?.idMasked ?? null,
          holderNameMatches: result.holderMatch.nameMatches,
          holderIdNumberMatches: result.holderMatch.idNumberMatches,
          format: result.document?.format ?? null,
          bindingExposesIdNumber: result.document?.exposesIdNumber ?? null,
          // Live status from the domain that issued it: the gateway routes by type.
          record: recordType ? statusRecord(recordType, result.document!.serial, ctx) : null,
        };
      },
      sealTrustList: (_: unknown, __: unknown, ctx: Context) => ctx.sealTrustListText(),
      organisation: (_: unknown, args: { creditCode: string }, ctx: Context) => ctx.loaders.organisation.load(requireCreditCode(args.creditCode)),
      organisations: (_: unknown, args: { creditCodes: string[] }, ctx: Context) => {
        requireKeyCount(args.creditCodes, 'creditCodes');
        const codes = args.creditCodes.map((c, i) => requireCreditCode(c, `creditCodes[${i}]`));
        return ctx.loaders.organisation.loadMany(codes);
      },
      licence: (_: unknown, args: { identifier: string }, ctx: Context) => ctx.loaders.licence.load(args.identifier),
    },
    Person: {
      __resolveReference: (ref: { idNumber: string }) => ({ idNumber: requireIdNumber(ref.idNumber) }),
      licences: (p: { idNumber: string }, args: { type?: string }, ctx: Context) => licencesOf(p.idNumber, args.type, ctx),
    },
    Organisation: {
      __resolveReference: (ref: { creditCode: string }, ctx: Context) => ctx.loaders.organisation.load(requireCreditCode(ref.creditCode)),
      creditCode: (o: OrganisationRow) => o.credit_code,
      entityType: (o: OrganisationRow) => o.entity_type,
      legalRepresentative: (o: OrganisationRow) => o.legal_representative,
      registeredCapital: (o: OrganisationRow) => (o.capital_wan_fen === null ? null : yuan(o.capital_wan_fen)),
      establishedOn: (o: OrganisationRow) => o.established_on,
      region: (o: OrganisationRow) => regionOf(o.region_code),
      businessScope: (o: OrganisationRow) => o.business_scope,
      businessLicence: async (o: OrganisationRow, _: unknown, ctx: Context) =>
        (await licencesOf(o.credit_code, 'BUSINESS_LICENCE', ctx)).find((l) => l.status === 'VALID') ?? null,
      licences: (o: OrganisationRow, args: { type?: string }, ctx: Context) => licencesOf(o.credit_code, args.type, ctx),
    },
    Licence: {
      holderName: (l: LicenceRow) => l.holder_name,
      holder: (l: LicenceRow, _: unknown, ctx: Context) =>
        l.holder_kind === 'PERSON' ? { idNumber: l.holder_id } : ctx.loaders.organisation.load(l.holder_id),
      issuer: (l: LicenceRow) => authority(l.issuer_name, l.issuer_region),
      issuedOn: (l: LicenceRow) => l.issued_on,
      validFrom: (l: LicenceRow) => l.valid_from,
      validUntil: (l: LicenceRow) => l.valid_until,
      attributes: (l: LicenceRow) => JSON.parse(l.attributes) as { name: string; value: string }[],
      history: (l: LicenceRow, _: unknown, ctx: Context) => ctx.loaders.events.load(l.identifier),
      document: (l: LicenceRow, _: unknown, ctx: Context) => licenceDocument(l, ctx),
    },
    LicenceHolder: {
      __resolveType: (holder: { idNumber?: string }) => (holder.idNumber ? 'Person' : 'Organisation'),
    },
    LicenceEvent: {
      authority: (e: LicenceEventRow) => authority(e.authority_name, e.authority_region),
    },
  },
};
