import { HOUSEHOLD_TABLES } from './household/tables.js';
import { SOCIAL_INSURANCE_TABLES } from './social-insurance/tables.js';
import { PROVIDENT_FUND_TABLES } from './provident-fund/tables.js';
import { CREDIT_TABLES } from './credit/tables.js';
import { LICENCE_TABLES } from './licences/tables.js';

/** The five domain subgraphs: name (also schema file and database name), default port, tables. */
export const SUBGRAPHS = [
  { name: 'household', title: '户籍 household registration', defaultPort: 4001, tables: HOUSEHOLD_TABLES },
  { name: 'social-insurance', title: '社会保险 social insurance', defaultPort: 4002, tables: SOCIAL_INSURANCE_TABLES },
  { name: 'provident-fund', title: '住房公积金 housing provident fund', defaultPort: 4003, tables: PROVIDENT_FUND_TABLES },
  { name: 'credit', title: '信用 credit', defaultPort: 4004, tables: CREDIT_TABLES },
  { name: 'licences', title: '电子证照 electronic licences', defaultPort: 4005, tables: LICENCE_TABLES },
] as const;

/** A domain subgraph: one of the five that own records (and a seeded database). */
export type DomainSubgraphName = (typeof SUBGRAPHS)[number]['name'];

export const SUBGRAPH_NAMES: readonly DomainSubgraphName[] = SUBGRAPHS.map((s) => s.name);

/** The audit-review subgraph: it reads the gateway's audit store rather than a seeded database. */
export const AUDIT_SUBGRAPH = { name: 'audit', title: '审计 audit review', defaultPort: 4006 } as const;

/** Every subgraph the gateway federates: the five domains and audit review. */
export const SERVICES: readonly { name: SubgraphName; title: string; defaultPort: number }[] = [...SUBGRAPHS, AUDIT_SUBGRAPH];

export type SubgraphName = DomainSubgraphName | (typeof AUDIT_SUBGRAPH)['name'];

/** Database file of one subgraph inside the data folder. */
export function databaseFileOf(dataDir: string, name: DomainSubgraphName): string {
  return `${dataDir.replace(/\/$/, '')}/${name}.db`;
}
