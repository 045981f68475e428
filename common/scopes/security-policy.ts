import { Kind, parse, print, visit, type ConstDirectiveNode, type ConstValueNode, type DocumentNode } from 'graphql';

/**
 * A scope requirement with Apollo Router's semantics: the outer list is OR,
 * each inner list is AND. `[["a", "b"], ["c"]]` = (a AND b) OR c.
 */
export type ScopeRequirement = readonly (readonly string[])[];

/** What the supergraph's security directives require, by schema coordinate. */
export interface SecurityPolicy {
  /** `Type.field` → requirements from `@requiresScopes` on the field. */
  fieldScopes: ReadonlyMap<string, ScopeRequirement>;
  /** `Type` → requirements from `@requiresScopes` on the type. */
  typeScopes: ReadonlyMap<string, ScopeRequirement>;
  /** `Type.field` and `Type` coordinates marked `@authenticated`. */
  authenticated: ReadonlySet<string>;
}

/** Features of the supergraph that @apollo/gateway refuses ("for: SECURITY … is unsupported"). */
const SECURITY_FEATURES: Record<string, string> = {
  'https://specs.apollo.dev/requiresScopes/': 'requiresScopes',
  'https://specs.apollo.dev/authenticated/': 'authenticated',
  'https://specs.apollo.dev/policy/': 'policy',
};
const SECURITY_DIRECTIVES = new Set(Object.values(SECURITY_FEATURES));
const SECURITY_SCALARS = new Set(['requiresScopes__Scope', 'policy__Policy']);

function stringArg(directive: ConstDirectiveNode, name: string): string | undefined {
  const arg = directive.arguments?.find((a) => a.name.value === name);
  return arg?.value.kind === Kind.STRING ? arg.value.value : undefined;
}

function scopesOf(directive: ConstDirectiveNode): ScopeRequirement {
  const arg = directive.arguments?.find((a) => a.name.value === 'scopes');
  const asList = (v: ConstValueNode | undefined): readonly ConstValueNode[] => (v?.kind === Kind.LIST ? v.values : v ? [v] : []);
  return asList(arg?.value).map((inner) =>
    asList(inner).map((s) => {
      if (s.kind !== Kind.STRING) throw new Error('@requiresScopes scopes must be strings');
      return s.value;
    }),
  );
}

/**
 * Checks that the security features are linked under their default names: a
 * renamed directive (`@link(as: …)`) would otherwise slip past both the
 * policy and the stripping.
 */
function checkSecurityLinks(document: DocumentNode): void {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== 'link') continue;
      const url = stringArg(directive, 'url') ?? '';
      const feature = Object.keys(SECURITY_FEATURES).find((prefix) => url.startsWith(prefix));
      if (feature && stringArg(directive, 'as') !== undefined) {
        throw new Error(`Supergraph links ${url} under another name; this gateway enforces it only under its default name.`);
      }
    }
  }
}

/** Reads `@requiresScopes` and `@authenticated` from a supergraph SDL. */
export function extractSecurityPolicy(supergraphSdl: string | DocumentNode): SecurityPolicy {
  const document = typeof supergraphSdl === 'string' ? parse(supergraphSdl) : supergraphSdl;
  checkSecurityLinks(document);
  const fieldScopes = new Map<string, ScopeRequirement>();
  const typeScopes = new Map<string, ScopeRequirement>();
  const authenticated = new Set<string>();
  const record = (coordinate: string, directives: readonly ConstDirectiveNode[] | undefined, scopes: Map<string, ScopeRequirement>) => {
    for (const directive of directives ?? []) {
      if (directive.name.value === 'requiresScopes') {
        // Several subgraphs may each declare scopes on a shared field: all must hold.
        const previous = scopes.get(coordinate);
        const next = scopesOf(directive);
        scopes.set(coordinate, previous ? andRequirements(previous, next) : next);
      } else if (directive.name.value === 'authenticated') {
        authenticated.add(coordinate);
      } else if (directive.name.value === 'policy') {
        throw new Error(`@policy on ${coordinate} is not supported by this gateway: use @requiresScopes.`);
      }
    }
  };
  for (const definition of document.definitions) {
    if (
      definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
      definition.kind === Kind.INTERFACE_TYPE_DEFINITION ||
      definition.kind === Kind.OBJECT_TYPE_EXTENSION ||
      definition.kind === Kind.INTERFACE_TYPE_EXTENSION
    ) {
      const typeName = definition.name.value;
      record(typeName, definition.directives, typeScopes);
      for (const field of definition.fields ?? []) record(`${typeName}.${field.name.value}`, field.directives, fieldScopes);
    } else if (
      definition.kind === Kind.SCALAR_TYPE_DEFINITION ||
      definition.kind === Kind.ENUM_TYPE_DEFINITION ||
      definition.kind === Kind.UNION_TYPE_DEFINITION
    ) {
      record(definition.name.value, definition.directives, typeScopes);
    }
  }
  return { fieldScopes, typeScopes, authenticated };
}

/** (A OR B) AND (C OR D) = AC OR AD OR BC OR BD, each inner list a set of scopes that must all be held. */
export function andRequirements(a: ScopeRequirement, b: ScopeRequirement): ScopeRequirement {
  const result: string[][] = [];
  for (const left of a) for (const right of b) result.push([...new Set([...left, ...right])]);
  return result;
}

/**
 * Removes the security features from a supergraph so that @apollo/gateway,
 * which refuses them, accepts it: their `@link`s, directive definitions,
 * scalars and every application. The gateway enforces them itself, from
 * `extractSecurityPolicy` of the same SDL, before planning.
 */
export function stripSecurityFeatures(supergraphSdl: string): string {
  const document = parse(supergraphSdl);
  checkSecurityLinks(document);
  let changed = false;
  const stripped = visit(document, {
    Directive(node) {
      if (SECURITY_DIRECTIVES.has(node.name.value)) {
        changed = true;
        return null;
      }
      if (node.name.value === 'link') {
        const url = node.arguments?.find((a) => a.name.value === 'url');
        if (url?.value.kind === Kind.STRING && Object.keys(SECURITY_FEATURES).some((p) => (url.value as { value: string }).value.startsWith(p))) {
          changed = true;
          return null;
        }
      }
      return undefined;
    },
    DirectiveDefinition(node) {
      return SECURITY_DIRECTIVES.has(node.name.value) ? null : undefined;
    },
    ScalarTypeDefinition(node) {
      return SECURITY_SCALARS.has(node.name.value) ? null : undefined;
    },
  });
  return changed ? print(stripped) : supergraphSdl;
}

/** True when `scopes` satisfy the requirement: some inner list is wholly held. */
export function satisfies(requirement: ScopeRequirement, scopes: ReadonlySet<string>): boolean {
  return requirement.some((all) => all.every((scope) => scopes.has(scope)));
}
