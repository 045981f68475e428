import { ISSUED_DOCUMENTS_TABLE } from '../shared/issued-documents-table.js';

/**
 * Tables of the electronic-licence store: registered organisations (the
 * market-registration register), licences of persons and organisations, and
 * their lifecycle events. Lookup paths: organisation by credit code, licence
 * by identifier, licences by holder, events by licence.
 */
export const LICENCE_TABLES = `
CREATE TABLE IF NOT EXISTS organisations (
  credit_code          TEXT PRIMARY KEY,
  name                 TEXT NOT NULL,
  entity_type          TEXT NOT NULL,
  legal_representative TEXT NOT NULL,
  capital_wan_fen      INTEGER,
  established_on       TEXT NOT NULL,
  address              TEXT NOT NULL,
  region_code          TEXT NOT NULL,
  business_scope       TEXT NOT NULL,
  status               TEXT NOT NULL CHECK (status IN ('ACTIVE', 'REVOKED', 'DEREGISTERED'))
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS licences (
  identifier     TEXT PRIMARY KEY,
  type           TEXT NOT NULL CHECK (type IN ('BUSINESS_LICENCE', 'DRIVING_LICENCE', 'PROFESSIONAL_QUALIFICATION')),
  title          TEXT NOT NULL,
  number         TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('VALID', 'EXPIRED', 'REVOKED', 'CANCELLED')),
  holder_kind    TEXT NOT NULL CHECK (holder_kind IN ('PERSON', 'ORGANISATION')),
  holder_id      TEXT NOT NULL,
  holder_name    TEXT NOT NULL,
  issuer_name    TEXT NOT NULL,
  issuer_region  TEXT NOT NULL,
  issued_on      TEXT NOT NULL,
  valid_from     TEXT NOT NULL,
  valid_until    TEXT,
  attributes     TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS licences_by_holder ON licences (holder_id, issued_on);

CREATE TABLE IF NOT EXISTS licence_events (
  identifier       TEXT NOT NULL REFERENCES licences(identifier),
  seq              INTEGER NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('ISSUED', 'RENEWED', 'AMENDED', 'REVOKED', 'CANCELLED')),
  date             TEXT NOT NULL,
  note             TEXT NOT NULL,
  authority_name   TEXT NOT NULL,
  authority_region TEXT NOT NULL,
  PRIMARY KEY (identifier, seq)
) WITHOUT ROWID;

${ISSUED_DOCUMENTS_TABLE}
`;
