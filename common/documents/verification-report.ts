/**
 * A verification as plain text, for the offline verifier a notary office
 * runs: one line per part, the content summarised, and — always — the
 * sentence saying that live status was not checked, because an offline
 * "VALID" read as "valid today" would hide a revocation.
 */
import type { DocumentVerification } from './verify.js';

/** Printed when an ID number was given for a format-2 document: offline, nobody but its issuer can test it. */
export const ID_NUMBER_NOT_CHECKED = 'NOT checked offline: only the issuing authority can test it against this document (verify online)';

/** Printed by every offline verification; tests and notaries look for it verbatim. */
export const LIVE_STATUS_NOT_CHECKED = 'Live status (revoked/superseded) was NOT checked: this is an offline verification.';

const MAX_ITEMS = 20;
const MAX_LINE = 160;

function clip(text: string): string {
  return text.length > MAX_LINE ? `${text.slice(0, MAX_LINE - 1)}…` : text;
}

function scalar(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Top-level content members one per line; lists one item per line, at most 20. */
export function summariseContent(content: Record<string, unknown>, indent = '    '): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(content)) {
    if (Array.isArray(value) && value.some((item) => typeof item === 'object' && item !== null)) {
      lines.push(`${indent}${key}:`);
      for (const item of value.slice(0, MAX_ITEMS)) lines.push(clip(`${indent}  - ${scalar(item)}`));
      if (value.length > MAX_ITEMS) lines.push(`${indent}  … and ${value.length - MAX_ITEMS} more`);
    } else if (Array.isArray(value)) {
      lines.push(clip(`${indent}${key}: ${value.map(scalar).join(', ')}`));
    } else {
      lines.push(clip(`${indent}${key}: ${scalar(value)}`));
    }
  }
  return lines;
}

function yesNo(value: boolean | null, yes: string, no: string, absent: string): string {
  return value === null ? absent : value ? yes : no;
}

/** The plain-text report of an offline verification. */
export function describeDocumentVerification(result: DocumentVerification): string {
  // Offline, VALID never means "in force": the verdict line itself says what was not asked.
  const verdict = `${result.verdict} (${result.code})${result.verdict === 'VALID' ? ' — live status NOT checked (offline)' : ''}`;
  const lines = [`Verdict:      ${verdict}`, `              ${result.message}`];
  const { signatureValid, contentIntact } = result.integrity;
  lines.push(
    `Integrity:    seal signature ${signatureValid ? 'valid' : 'NOT valid'}; content ${contentIntact ? 'matches its sealed digest' : 'ALTERED or unreadable'}`,
  );
  const issuer = result.issuer;
  lines.push(
    issuer === null
      ? 'Issuer:       unknown (nothing readable)'
      : `Issuer:       ${issuer.name} [${issuer.id}], ${issuer.provinceName ?? 'unknown province'} (${issuer.province}) — ${issuer.trusted ? 'trusted: its seal is in the trust list' : 'NOT trusted'}`,
  );
  if (result.document) {
    const d = result.document;
    lines.push(`Document:     ${d.typeName} (${d.type}), serial ${d.serial}, sealed ${d.issuedAt} with key ${d.sealKid}`);
    lines.push(
      d.exposesIdNumber
        ? `Format:       ${d.format} (old): its holder binding lets anyone holding the document recover the full ID number`
        : `Format:       ${d.format}: the holder's ID number is bound with the issuing authority's secret key`,
    );
  }
  if (result.validity) {
    const v = result.validity;
    lines.push(`Validity:     from ${v.from} ${v.until === null ? 'without end' : `until ${v.until}`} — ${v.status}`);
  }
  if (result.holder) lines.push(`Holder:       ${result.holder.name}, ID ${result.holder.idMasked}`);
  const match = result.holderMatch;
  lines.push(
    match.checked
      ? `Holder match: name ${yesNo(match.nameMatches, 'matches', 'DOES NOT match', 'not given')}; ID number ${
          match.idNumberNeedsIssuer ? ID_NUMBER_NOT_CHECKED : yesNo(match.idNumberMatches, 'matches', 'DOES NOT match', 'not given')
        }`
      : `Holder match: not checked${result.holder ? ' (give --holder-name and --holder-id to check)' : ''}`,
  );
  if (result.content) {
    lines.push('Content:');
    lines.push(...summariseContent(result.content));
  }
  lines.push(LIVE_STATUS_NOT_CHECKED);
  if (result.verdict === 'VALID') lines.push('Ask the issuing authority, or verify through the 跨省通办 gateway, before relying on it.');
  return `${lines.join('\n')}\n`;
}
