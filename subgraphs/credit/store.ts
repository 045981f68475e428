import type { SqliteDatabase } from '../shared/database.js';
import { jsonList } from '../shared/database.js';

export interface CreditRecordRow {
  id: string;
  subject_kind: 'PERSON' | 'ORGANISATION';
  subject_id: string;
  category: string;
  status: string;
  document_number: string;
  title: string;
  details: string;
  authority_name: string;
  authority_region: string;
  decided_on: string;
  published_until: string | null;
  amount_fen: number | null;
}

/** Read access to public credit records; every method is one prepared statement. */
export interface CreditStore {
  /** Records of persons or organisations (ID numbers and credit codes never collide), newest first. */
  recordsOfSubjects(subjectIds: string[]): CreditRecordRow[];
  recordsByIds(ids: string[]): CreditRecordRow[];
}

export function createCreditStore(db: SqliteDatabase): CreditStore {
  const bySubject = db.prepare<[string], CreditRecordRow>(
    'SELECT * FROM credit_records WHERE subject_id IN (SELECT value FROM json_each(?)) ORDER BY subject_id, decided_on DESC, id',
  );
  const byId = db.prepare<[string], CreditRecordRow>('SELECT * FROM credit_records WHERE id IN (SELECT value FROM json_each(?))');
  return {
    recordsOfSubjects: (ids) => bySubject.all(jsonList(ids)),
    recordsByIds: (ids) => byId.all(jsonList(ids)),
  };
}
