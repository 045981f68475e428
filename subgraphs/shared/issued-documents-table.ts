/**
 * The table every issuing domain (social insurance, provident fund,
 * licences) keeps its sealed documents in, with their live status.
 * Part of each of those domains' tables; created if missing.
 */
export const ISSUED_DOCUMENTS_TABLE = `
-- Documents issued under the seal of an authority of this domain (电子证明/电子证照), with their live status.
CREATE TABLE IF NOT EXISTS issued_documents (
  serial            TEXT PRIMARY KEY,
  type              TEXT NOT NULL,
  authority_id      TEXT NOT NULL,
  authority_province TEXT NOT NULL,
  holder_key        TEXT NOT NULL,
  issued_at         TEXT NOT NULL,
  valid_until       TEXT,
  status            TEXT NOT NULL CHECK (status IN ('VALID', 'REVOKED', 'SUPERSEDED')),
  revoked_at        TEXT,
  revocation_reason TEXT,
  superseded_by     TEXT,
  token             TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS issued_documents_by_holder ON issued_documents (holder_key, type, issued_at);
-- Wrong ID numbers tried against a document, per UTC day: the online holder check is no oracle to brute-force.
CREATE TABLE IF NOT EXISTS holder_check_failures (
  serial   TEXT NOT NULL,
  day      TEXT NOT NULL,
  failures INTEGER NOT NULL,
  PRIMARY KEY (serial, day)
) WITHOUT ROWID;
`;
