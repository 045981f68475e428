/**
 * One verdict a notary can act on. `verifyDocument` is answered by the
 * licences domain, which checks the seal, the content and the validity
 * period; whether the document was since revoked or superseded, and (for a
 * format-2 document) whether the ID number given is the holder's, only the
 * issuing domain knows. So that the verdict never says VALID for a revoked
 * document, the gateway asks the issuing domain every time: under each
 * `verifyDocument` of an operation it adds, before planning, a selection
 * the client did not write — the record's `status` and
 * `holderIdNumberMatches` — and after execution folds what came back into
 * `verdict`, `code` and `holderIdNumberMatches`, then removes it.
 *
 * A VALID document whose issuing domain cannot be reached, or has no record
 * of it, is `STATUS_UNAVAILABLE`, never VALID.
 */
import {
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  isUnionType,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

const ROOT_FIELD = 'verifyDocument';
const RECORD_UNION = 'DocumentRecord';

/** Where the client reads the parts of one verification: the response keys it gave them. */
interface VerificationKeys {
  /** The response key of the `verifyDocument` field. */
  key: string;
  verdict: string[];
  code: string[];
  holderIdNumberMatches: string[];
  /** The licences domain's own code, under a key the gateway added. */
  hiddenCode: string;
  /** The record's response key: the client's own `record` when it selected one (the hidden fields go inside it), else one the gateway added. */
  record: string;
  /** True when `record` is the gateway's: all of it is removed afterwards. */
  hiddenRecord: boolean;
  /** The keys, inside the record, of the status and the holder check the gateway added. */
  status: string;
  holder: string;
}

/** What the gateway added to an operation, to read and remove after execution; null when it has no `verifyDocument`. */
export interface LiveChecks {
  verifications: VerificationKeys[];
}

const responseKey = (field: FieldNode) => field.alias?.value ?? field.name.value;

/** The response keys a selection set gives one field (through inline fragments; named ones are looked up). */
function keysOf(
  selectionSet: SelectionSetNode,
  name: string,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): string[] {
  const keys: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === name) keys.push(responseKey(selection));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      keys.push(...keysOf(selection.selectionSet, name, fragments, seen));
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) keys.push(...keysOf(fragment.selectionSet, name, fragments, seen));
    }
  }
  return [...new Set(keys)];
}

/** Every response key used directly in a selection set (so that an added alias collides with none). */
function usedKeys(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen = new Set<string>()): Set<string> {
  const keys = new Set<string>();
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) keys.add(responseKey(selection));
    else if (selection.kind === Kind.INLINE_FRAGMENT) for (const key of usedKeys(selection.selectionSet, fragments, seen)) keys.add(key);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) for (const key of usedKeys(fragment.selectionSet, fragments, seen)) keys.add(key);
    }
  }
  return keys;
}

function freeAlias(base: string, used: Set<string>): string {
  let alias = base;
  for (let n = 2; used.has(alias); n++) alias = `${base}${n}`;
  used.add(alias);
  return alias;
}

/** Inline fragments on every record type, selecting its status and (given a holder ID) the issuer's holder check under the given keys. */
function recordChecks(recordTypes: readonly string[], statusKey: string, holderKey: string, holderId: ArgumentNode | undefined): SelectionNode[] {
  const holderCheck = holderId ? ` ${holderKey}: holderIdNumberMatches(idNumber: ${print(holderId.value)})` : '';
  const members = recordTypes.map((type) => `... on ${type} { ${statusKey}: status${holderCheck} }`).join(' ');
  return [...(parse(`{ ${members} }`).definitions[0] as OperationDefinitionNode).selectionSet.selections];
}

/** A field of `parse`d text `{ … }`. */
const fieldOf = (text: string) => (parse(text).definitions[0] as OperationDefinitionNode).selectionSet.selections[0] as FieldNode;

/**
 * The operation with the live checks added under each root `verifyDocument`
 * (directly, in inline fragments, or in fragments spread at the root), and
 * what to read back; the document unchanged and null when there is none.
 */
export function withLiveChecks(schema: GraphQLSchema, document: DocumentNode): { document: DocumentNode; checks: LiveChecks | null } {
  const union = schema.getType(RECORD_UNION);
  if (!isUnionType(union) || !schema.getQueryType()?.getFields()[ROOT_FIELD]) return { document, checks: null };
  const recordTypes = union.getTypes().map((t) => t.name);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const verifications: VerificationKeys[] = [];
  const rootFragments = new Set<string>();

  const rewriteField = (field: FieldNode): FieldNode => {
    if (field.name.value !== ROOT_FIELD || !field.selectionSet) return field;
    const used = usedKeys(field.selectionSet, fragments);
    const hiddenCode = freeAlias('_liveCode', used);
    const holderId = field.arguments?.find((a) => a.name.value === 'holderIdNumber');
    // The client's own `record`, when it has one: the added fields go inside it, so that the issuing domain is asked once.
    const own = field.selectionSet.selections.find(
      (s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'record' && !s.directives?.length && s.selectionSet !== undefined,
    );
    const inRecord = own?.selectionSet ? usedKeys(own.selectionSet, fragments) : new Set<string>();
    const status = freeAlias('_liveStatus', inRecord);
    const holder = freeAlias('_liveHolder', inRecord);
    const checks = recordChecks(recordTypes, status, holder, holderId);
    let selections: readonly SelectionNode[];
    let record: string;
    if (own?.selectionSet) {
      record = responseKey(own);
      const widened: FieldNode = { ...own, selectionSet: { ...own.selectionSet, selections: [...own.selectionSet.selections, ...checks] } };
      selections = field.selectionSet.selections.map((s) => (s === own ? widened : s));
    } else {
      record = freeAlias('_liveRecord', used);
      const added = fieldOf(`{ ${record}: record { __typename } }`);
      selections = [
        ...field.selectionSet.selections,
        { ...added, selectionSet: { ...added.selectionSet!, selections: [...added.selectionSet!.selections, ...checks] } },
      ];
    }
    verifications.push({
      key: responseKey(field),
      verdict: keysOf(field.selectionSet, 'verdict', fragments),
      code: keysOf(field.selectionSet, 'code', fragments),
      holderIdNumberMatches: keysOf(field.selectionSet, 'holderIdNumberMatches', fragments),
      hiddenCode,
      record,
      hiddenRecord: !own?.selectionSet,
      status,
      holder,
    });
    return { ...field, selectionSet: { ...field.selectionSet, selections: [...selections, fieldOf(`{ ${hiddenCode}: code }`)] } };
  };
  const rewriteRoot = (selectionSet: SelectionSetNode): SelectionSetNode => ({
    ...selectionSet,
    selections: selectionSet.selections.map((selection) => {
      if (selection.kind === Kind.FIELD) return rewriteField(selection);
      if (selection.kind === Kind.INLINE_FRAGMENT) return { ...selection, selectionSet: rewriteRoot(selection.selectionSet) };
      rootFragments.add(selection.name.value);
      return selection;
    }),
  });

  let definitions = document.definitions.map((definition) =>
    definition.kind === Kind.OPERATION_DEFINITION && definition.operation === 'query'
      ? { ...definition, selectionSet: rewriteRoot(definition.selectionSet) }
      : definition,
  );
  // Fragments spread at the root are on Query: rewritten in place (transitively), once each.
  const done = new Set<string>();
  while ([...rootFragments].some((name) => !done.has(name))) {
    definitions = definitions.map((definition) => {
      if (definition.kind !== Kind.FRAGMENT_DEFINITION || done.has(definition.name.value) || !rootFragments.has(definition.name.value))
        return definition;
      done.add(definition.name.value);
      return { ...definition, selectionSet: rewriteRoot(definition.selectionSet) };
    });
    for (const name of rootFragments) if (!fragments.has(name)) done.add(name);
  }
  if (verifications.length === 0) return { document, checks: null };
  return { document: { ...document, definitions }, checks: { verifications } };
}

type Verdict = { verdict: string; code: string };

/** The verdict once the issuing domain's answer is in: the licences domain's unless it said OK. */
function liveVerdict(ownCode: unknown, status: unknown, hasRecord: boolean, unreachable: boolean): Verdict | null {
  if (ownCode !== 'OK') return null; // not genuine, expired, …: that verdict stands
  if (!hasRecord || status === undefined || status === null) {
    return unreachable ? { verdict: 'STATUS_UNAVAILABLE', code: 'STATUS_UNREACHABLE' } : { verdict: 'STATUS_UNAVAILABLE', code: 'STATUS_NOT_FOUND' };
  }
  if (status === 'REVOKED') return { verdict: 'REVOKED', code: 'REVOKED' };
  if (status === 'SUPERSEDED') return { verdict: 'SUPERSEDED', code: 'SUPERSEDED' };
  if (status === 'VALID') return null;
  return { verdict: 'STATUS_UNAVAILABLE', code: 'STATUS_NOT_FOUND' };
}

const startsWith = (path: readonly (string | number)[] | undefined, prefix: readonly string[]) =>
  path !== undefined && prefix.every((part, i) => path[i] === part);

/**
 * Folds the issuing domains' answers into the verifications of `data` and
 * removes what the gateway added; errors under the added selections are
 * dropped (the verdict says what they meant). Returns the errors to keep.
 */
export function applyLiveChecks(checks: LiveChecks, data: Record<string, unknown> | null, errors: GraphQLFormattedError[]): GraphQLFormattedError[] {
  if (!data) return errors;
  let kept = errors;
  for (const v of checks.verifications) {
    const result = data[v.key] as Record<string, unknown> | null | undefined;
    if (result === null || typeof result !== 'object') continue;
    const ownCode = result[v.hiddenCode];
    delete result[v.hiddenCode];
    const record = result[v.record] as Record<string, unknown> | null | undefined;
    const live = record !== null && typeof record === 'object' ? { status: record[v.status], holder: record[v.holder] } : null;
    if (record !== null && typeof record === 'object') {
      delete record[v.status];
      delete record[v.holder];
    }
    if (v.hiddenRecord) delete result[v.record];
    const recordPath = [v.key, v.record];
    const atRecord = kept.filter((e) => startsWith(e.path, recordPath));
    const limited = atRecord.find((e) => e.extensions?.code === 'HOLDER_CHECK_LIMITED');
    // An unreachable domain: its fetch failed (an error at the record, or one naming no path at all).
    const unreachable =
      atRecord.some((e) => e.extensions?.code !== 'HOLDER_CHECK_LIMITED') ||
      kept.some((e) => e.path === undefined && e.extensions?.code === 'SUBGRAPH_UNAVAILABLE');
    // Errors under what the gateway added are not the client's: dropped (the issuer's refusal to test more ID numbers moves to where the client asked).
    kept = kept.filter((e) => !(v.hiddenRecord ? startsWith(e.path, recordPath) : e.path?.[2] === v.status || e.path?.[2] === v.holder));
    if (limited) for (const key of v.holderIdNumberMatches) kept.push({ ...limited, path: [v.key, key] });
    const decided = liveVerdict(ownCode, live?.status, live !== null, unreachable);
    if (decided) {
      for (const key of v.verdict) result[key] = decided.verdict;
      for (const key of v.code) result[key] = decided.code;
    }
    if (typeof live?.holder === 'boolean') for (const key of v.holderIdNumberMatches) result[key] = live.holder;
  }
  return kept;
}
