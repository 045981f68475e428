import { defaultFieldResolver, Kind, type DocumentNode, type GraphQLFieldResolver } from 'graphql';

/** A record a subgraph handed out, by its subject: the person or organisation it is about. */
/** A subgraph's resolvers by type and field (as @apollo/subgraph takes them). */
// biome-ignore lint/suspicious/noExplicitAny: resolver and context types differ per domain; the schema is their contract
type ResolverMap = Record<string, any>;

export interface Disclosure {
  type: 'Person' | 'Organisation';
  key: string;
}

/** Per request: the subjects whose records this subgraph returned. Reported to the gateway for the audit trail. */
export type DisclosureLog = Map<string, Disclosure>;

/** Response extension that carries the disclosures to the gateway, which strips it before the client sees the response. */
export const DISCLOSURE_EXTENSION = 'disclosed';

/**
 * The extension's value: subject keys by type, e.g.
 * `{ "Person": ["110101199003071234", …], "Organisation": […] }`. A batch of
 * 50 persons is 50 strings, not 50 objects, to write and to parse.
 */
export type DisclosureReport = Record<string, string[]>;

/** The report of a request's disclosure log. */
export function disclosureReport(log: DisclosureLog): DisclosureReport {
  const report: DisclosureReport = {};
  for (const { type, key } of log.values()) (report[type] ??= []).push(key);
  return report;
}

/** One subgraph's disclosures of one type, as the gateway reads them. */
export interface DisclosedKeys {
  type: string;
  keys: readonly string[];
}

/**
 * Reads a subgraph's report: the keys of each type. Also reads the form
 * subgraphs sent before, one `{ type, key }` object per subject (a subgraph
 * not yet upgraded). Entries that are not strings are skipped; anything else
 * reads as nothing disclosed.
 */
export function readDisclosureReport(value: unknown): DisclosedKeys[] {
  const groups: DisclosedKeys[] = [];
  if (Array.isArray(value)) {
    const byType = new Map<string, string[]>();
    for (const item of value as Partial<Disclosure>[]) {
      if (item && typeof item.type === 'string' && typeof item.key === 'string') {
        let keys = byType.get(item.type);
        if (!keys) byType.set(item.type, (keys = []));
        keys.push(item.key);
      }
    }
    for (const [type, keys] of byType) groups.push({ type, keys });
  } else if (value !== null && typeof value === 'object') {
    for (const type of Object.keys(value)) {
      const keys = (value as Record<string, unknown>)[type];
      if (!Array.isArray(keys)) continue;
      // The keys as parsed, unless one is not a string.
      groups.push({
        type,
        keys: keys.every((key) => typeof key === 'string') ? (keys as string[]) : keys.filter((key): key is string => typeof key === 'string'),
      });
    }
  }
  return groups;
}

type Row = Record<string, unknown>;
type SubjectOf = (parent: Row) => Disclosure | null;

const person = (key: unknown): Disclosure | null => (typeof key === 'string' ? { type: 'Person', key } : null);
const organisation = (key: unknown): Disclosure | null => (typeof key === 'string' ? { type: 'Organisation', key } : null);

/**
 * Which subject an object of each type is about. Entities say it with their
 * key; records reachable from root fields (an enrolment, an account, a
 * credit record, a licence) by the subject they belong to.
 */
const SUBJECTS: Record<string, SubjectOf> = {
  Person: (p) => person(p.idNumber ?? p.id_number),
  Organisation: (o) => organisation(o.creditCode ?? o.credit_code),
  SocialInsuranceRecord: (r) => person(r.id_number),
  InsuranceEnrolment: (r) => person(r.id_number),
  ContributionPeriod: (r) => person(r.id_number),
  ProvidentFundAccount: (r) => person(r.id_number),
  CreditRecord: (r) => (r.subject_kind === 'ORGANISATION' ? organisation(r.subject_id) : person(r.subject_id)),
  Licence: (r) => (r.holder_kind === 'ORGANISATION' ? organisation(r.holder_id) : person(r.holder_id)),
};

/** Entity key fields: reading only the key discloses nothing the caller did not send. */
const KEY_FIELDS = new Set(['Person.idNumber', 'Organisation.creditCode']);

/**
 * Wraps the resolvers of every subject-bearing type in the SDL so that
 * resolving any of its fields (its key aside) notes the subject in the
 * request's disclosure log. One set insertion per object, not per field.
 */
export function trackDisclosures(typeDefs: DocumentNode, resolvers: ResolverMap): ResolverMap {
  const wrapped: ResolverMap = { ...resolvers };
  for (const definition of typeDefs.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const typeName = definition.name.value;
    const subjectOf = SUBJECTS[typeName];
    if (!subjectOf) continue;
    const typeResolvers: Record<string, unknown> = { ...(resolvers[typeName] ?? {}) };
    for (const field of definition.fields ?? []) {
      const fieldName = field.name.value;
      if (KEY_FIELDS.has(`${typeName}.${fieldName}`)) continue;
      const original = (typeResolvers[fieldName] as GraphQLFieldResolver<Row, { disclosed: DisclosureLog }> | undefined) ?? defaultFieldResolver;
      typeResolvers[fieldName] = (parent: Row, args: unknown, context: { disclosed: DisclosureLog }, info: Parameters<typeof original>[3]) => {
        const subject = subjectOf(parent);
        if (subject) context.disclosed.set(`${subject.type}:${subject.key}`, subject);
        return original(parent, args as Record<string, unknown>, context, info);
      };
    }
    wrapped[typeName] = typeResolvers;
  }
  return wrapped;
}
