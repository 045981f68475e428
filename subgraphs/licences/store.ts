import type { SqliteDatabase } from '../shared/database.js';
import { jsonList } from '../shared/database.js';

export interface OrganisationRow {
  credit_code: string;
  name: string;
  entity_type: string;
  legal_representative: string;
  capital_wan_fen: number | null;
  established_on: string;
  address: string;
  region_code: string;
  business_scope: string;
  status: string;
}

export interface LicenceRow {
  identifier: string;
  type: string;
  title: string;
  number: string;
  status: string;
  holder_kind: 'PERSON' | 'ORGANISATION';
  holder_id: string;
  holder_name: string;
  issuer_name: string;
  issuer_region: string;
  issued_on: string;
  valid_from: string;
  valid_until: string | null;
  attributes: string;
}

export interface LicenceEventRow {
  identifier: string;
  seq: number;
  kind: string;
  date: string;
  note: string;
  authority_name: string;
  authority_region: string;
}

/** Read access to the licence register; every method is one prepared statement. */
export interface LicenceStore {
  organisations(creditCodes: string[]): OrganisationRow[];
  licencesOfHolders(holderIds: string[]): LicenceRow[];
  licencesByIdentifiers(identifiers: string[]): LicenceRow[];
  eventsOfLicences(identifiers: string[]): LicenceEventRow[];
}

export function createLicenceStore(db: SqliteDatabase): LicenceStore {
  const organisations = db.prepare<[string], OrganisationRow>('SELECT * FROM organisations WHERE credit_code IN (SELECT value FROM json_each(?))');
  const byHolder = db.prepare<[string], LicenceRow>(
    'SELECT * FROM licences WHERE holder_id IN (SELECT value FROM json_each(?)) ORDER BY holder_id, issued_on DESC, identifier',
  );
  const byIdentifier = db.prepare<[string], LicenceRow>('SELECT * FROM licences WHERE identifier IN (SELECT value FROM json_each(?))');
  const events = db.prepare<[string], LicenceEventRow>(
    'SELECT * FROM licence_events WHERE identifier IN (SELECT value FROM json_each(?)) ORDER BY identifier, seq',
  );
  return {
    organisations: (codes) => organisations.all(jsonList(codes)),
    licencesOfHolders: (ids) => byHolder.all(jsonList(ids)),
    licencesByIdentifiers: (ids) => byIdentifier.all(jsonList(ids)),
    eventsOfLicences: (ids) => events.all(jsonList(ids)),
  };
}
