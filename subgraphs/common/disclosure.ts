import { defaultFieldResolver, Kind, type DocumentNode, type GraphQLFieldResolver } from 'graphql';
import type { ResolverMap } from './domain.js';

/** A record a subgraph handed out, by its subject: the person or organisation it is about. */
export interface Disclosure {
  type: 'Person' | 'Organisation';
  key: string;
}

/** Per request: the subjects whose records this subgraph returned. Reported to the gateway for the audit trail. */
export type DisclosureLog = Map<string, Disclosure>;

/** Response extension that carries the disclosures to the gateway, which strips it before the client sees the response. */
export const DISCLOSURE_EXTENSION = 'disclosed';

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
