import { DOMAIN_SUBGRAPHS, type DomainSubgraphName } from '../common/services.js';
import { HOUSEHOLD_TABLES } from './household/tables.js';
import { SOCIAL_INSURANCE_TABLES } from './social-insurance/tables.js';
import { PROVIDENT_FUND_TABLES } from './provident-fund/tables.js';
import { CREDIT_TABLES } from './credit/tables.js';
import { LICENCE_TABLES } from './licences/tables.js';
import { ISSUED_DOCUMENTS_TABLE } from './shared/issued-documents-table.js';

export { AUDIT_SUBGRAPH, databaseFileOf, SERVICES, SUBGRAPH_NAMES, type DomainSubgraphName, type SubgraphName } from '../common/services.js';

const TABLES: Record<DomainSubgraphName, string> = {
  household: HOUSEHOLD_TABLES,
  'social-insurance': SOCIAL_INSURANCE_TABLES,
  'provident-fund': PROVIDENT_FUND_TABLES,
  credit: CREDIT_TABLES,
  licences: LICENCE_TABLES,
};

/**
 * The five domain subgraphs with the tables of each (the DDL, every
 * statement IF NOT EXISTS), and whether the domain issues sealed documents
 * (its database then keeps them, with their revocations, in `issued_documents`).
 */
export const SUBGRAPHS = DOMAIN_SUBGRAPHS.map((s) => ({
  ...s,
  tables: TABLES[s.name],
  issuesDocuments: TABLES[s.name].includes(ISSUED_DOCUMENTS_TABLE),
}));
