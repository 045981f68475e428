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
  /** The response keys of the added selections: the record, the licences domain's own code. */
  hiddenRecord: string;
  hiddenCode: string;
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

/** The selections added under one `verifyDocument`: the issuing domain's record, and the licences domain's own code. */
function hiddenSelections(
  recordTypes: readonly string[],
  recordAlias: string,
  codeAlias: string,
  holderId: ArgumentNode | undefined,
): SelectionNode[] {
  const holderCheck = holderId ? ` holderIdNumberMatches(idNumber: ${print(holderId.value)})` : '';
  const members = recordTypes.map((type) => `... on ${type} { status${holderCheck} }`).join(' ');
  const text = `{ ${codeAlias}: code ${recordAlias}: record { __typename ${members} } }`;
  const operation = parse(text).definitions[0] as OperationDefinitionNode;
  return [...operation.selectionSet.selections];
}

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
    const hiddenRecord = freeAlias('_liveRecord', used);
    const hiddenCode = freeAlias('_liveCode', used);
    verifications.push({
      key: responseKey(field),
      verdict: keysOf(field.selectionSet, 'verdict', fragments),
      code: keysOf(field.selectionSet, 'code', fragments),
      holderIdNumberMatches: keysOf(field.selectionSet, 'holderIdNumberMatches', fragments),
      hiddenRecord,
      hiddenCode,
    });
    const holderId = field.arguments?.find((a) => a.name.value === 'holderIdNumber');
    const added = hiddenSelections(recordTypes, hiddenRecord, hiddenCode, holderId);
    return { ...field, selectionSet: { ...field.selectionSet, selections: [...field.selectionSet.selections, ...added] } };
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
function liveVerdict(ownCode: unknown, record: unknown, unreachable: boolean): Verdict | null {
  if (ownCode !== 'OK') return null; // not genuine, expired, …: that verdict stands
  if (record === null || typeof record !== 'object') {
    return unreachable ? { verdict: 'STATUS_UNAVAILABLE', code: 'STATUS_UNREACHABLE' } : { verdict: 'STATUS_UNAVAILABLE', code: 'STATUS_NOT_FOUND' };
  }
  const status = (record as { status?: unknown }).status;
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
    const record = result[v.hiddenRecord];
    const ownCode = result[v.hiddenCode];
    delete result[v.hiddenRecord];
    delete result[v.hiddenCode];
    const hidden = [v.key, v.hiddenRecord];
    const recordErrors = kept.filter((e) => startsWith(e.path, hidden));
    // An unreachable domain: its fetch failed (an error at the record, or one naming no path at all).
    const unreachable =
      recordErrors.some((e) => e.extensions?.code !== 'HOLDER_CHECK_LIMITED') ||
      kept.some((e) => e.path === undefined && e.extensions?.code === 'SUBGRAPH_UNAVAILABLE');
    if (recordErrors.length > 0) {
      kept = kept.filter((e) => !startsWith(e.path, hidden));
      // The issuer's refusal to test more ID numbers is the client's to read, where it asked for the match.
      const limited = recordErrors.find((e) => e.extensions?.code === 'HOLDER_CHECK_LIMITED');
      if (limited) for (const key of v.holderIdNumberMatches) kept.push({ ...limited, path: [v.key, key] });
    }
    const decided = liveVerdict(ownCode, record, unreachable);
    if (decided) {
      for (const key of v.verdict) result[key] = decided.verdict;
      for (const key of v.code) result[key] = decided.code;
    }
    const matches = record && typeof record === 'object' ? (record as { holderIdNumberMatches?: unknown }).holderIdNumberMatches : undefined;
    if (typeof matches === 'boolean') for (const key of v.holderIdNumberMatches) result[key] = matches;
  }
  return kept;
}
