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

export type SubgraphName = (typeof SUBGRAPHS)[number]['name'];

export const SUBGRAPH_NAMES: readonly SubgraphName[] = SUBGRAPHS.map((s) => s.name);

/** Database file of one subgraph inside the data folder. */
export function databaseFileOf(dataDir: string, name: SubgraphName): string {
  return `${dataDir.replace(/\/$/, '')}/${name}.db`;
}
