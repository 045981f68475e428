import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Rejection } from '../common/http/server.js';
import { AuthenticationError, type Authenticator } from './auth/authenticate.js';
import type { Caller } from './auth/caller.js';
import { RevocationUnavailableError } from './access/errors.js';
import type { AccessGuard } from './access/guard.js';
import type { MatterCatalog } from './authorization/matter-catalog.js';
import { bindPurpose, CASE_NUMBER_HEADER, MATTER_HEADER, PurposeError, type Purpose } from './authorization/purpose-binding.js';
import { rejection } from './errors.js';
import type { AuditDraft } from './audit/draft.js';

/** Who is asking and for what: settled before GraphQL runs. */
export interface Admitted {
  caller: Caller;
  purpose: Purpose;
}

export interface AdmissionOptions {
  authenticator: Authenticator;
  accessGuard: AccessGuard;
  matters: MatterCatalog;
  logger: Logger;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * HTTP header values are bytes, not Unicode: a case number such as
 * 藏人社〔2026〕88号 travels percent-encoded (UTF-8) and is decoded here. A
 * malformed encoding is kept as is, and then fails the case-number check.
 */
function decodedHeader(req: IncomingMessage, name: string): string | undefined {
  const value = header(req, name);
  if (value === undefined || !value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Admission of one request, deny by default: a verified token (401
 * otherwise), not revoked (401; 503 when revocation cannot be checked),
 * within its client's and province's budgets (429 with Retry-After), and a
 * declared matter that exists and that the token may act under.
 */
export function createAdmission(options: AdmissionOptions) {
  return async (req: IncomingMessage, requestId: string, draft: AuditDraft): Promise<Admitted | Rejection> => {
    let caller: Caller;
    try {
      caller = await options.authenticator.authenticate(header(req, 'authorization'));
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      options.logger.info({ requestId, reason: error.reason }, 'request refused: not authenticated');
      return rejection('UNAUTHENTICATED', { reason: error.reason }, { 'www-authenticate': 'Bearer' });
    }
    draft.noteCaller(caller);
    try {
      const access = await options.accessGuard.check(caller.tokenId, `${caller.issuer} ${caller.subject}`, caller.province);
      if (access.revoked) {
        options.logger.warn({ requestId, tokenId: caller.tokenId }, 'request refused: token revoked');
        return rejection('UNAUTHENTICATED', { reason: 'TOKEN_REVOKED' }, { 'www-authenticate': 'Bearer' });
      }
      if (!access.rate.allowed) {
        const retryAfter = String(Math.max(1, Math.ceil(access.rate.retryAfterSeconds)));
        return rejection('RATE_LIMITED', { limitedBy: access.rate.limitedBy, retryAfterSeconds: Number(retryAfter) }, { 'retry-after': retryAfter });
      }
    } catch (error) {
      if (!(error instanceof RevocationUnavailableError)) throw error;
      options.logger.error({ requestId, err: error }, 'request refused: revocation list unavailable (fail closed)');
      return rejection('REVOCATION_UNAVAILABLE', {}, { 'retry-after': '5' });
    }
    try {
      const purpose = bindPurpose({
        catalog: options.matters,
        tokenScopes: caller.scopes,
        tokenMatters: caller.matters,
        matterCode: header(req, MATTER_HEADER),
        caseNumber: decodedHeader(req, CASE_NUMBER_HEADER),
      });
      draft.notePurpose(purpose);
      return { caller, purpose };
    } catch (error) {
      if (!(error instanceof PurposeError)) throw error;
      return rejection(error.code, {}, {}, error.message);
    }
  };
}

export type { Rejection };
