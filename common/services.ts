/**
 * The services of the federation as both sides know them: the five domain
 * subgraphs and the audit-review subgraph, each with its name (also its
 * schema file and database name), title and default port. The domains'
 * tables live with the domains (`subgraphs/catalog.ts`).
 */

/** The five domain subgraphs: those that own records (and a seeded database). */
export const DOMAIN_SUBGRAPHS = [
  { name: 'household', title: '户籍 household registration', defaultPort: 4001 },
  { name: 'social-insurance', title: '社会保险 social insurance', defaultPort: 4002 },
  { name: 'provident-fund', title: '住房公积金 housing provident fund', defaultPort: 4003 },
  { name: 'credit', title: '信用 credit', defaultPort: 4004 },
  { name: 'licences', title: '电子证照 electronic licences', defaultPort: 4005 },
] as const;

/** A domain subgraph: one of the five that own records. */
export type DomainSubgraphName = (typeof DOMAIN_SUBGRAPHS)[number]['name'];

export const SUBGRAPH_NAMES: readonly DomainSubgraphName[] = DOMAIN_SUBGRAPHS.map((s) => s.name);

/** The audit-review subgraph: it reads the gateway's audit store rather than a seeded database. */
export const AUDIT_SUBGRAPH = { name: 'audit', title: '审计 audit review', defaultPort: 4006 } as const;

export type SubgraphName = DomainSubgraphName | (typeof AUDIT_SUBGRAPH)['name'];

/** Every subgraph the gateway federates: the five domains and audit review. */
export const SERVICES: readonly { name: SubgraphName; title: string; defaultPort: number }[] = [...DOMAIN_SUBGRAPHS, AUDIT_SUBGRAPH];

/** Database file of one domain subgraph inside the data folder. */
export function databaseFileOf(dataDir: string, name: DomainSubgraphName): string {
  return `${dataDir.replace(/\/$/, '')}/${name}.db`;
}
