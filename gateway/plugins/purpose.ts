import { ERRORS } from '../../common/errors.js';
import type { MatterCatalog } from '../authorization/matter-catalog.js';
import { bindPurpose, CASE_NUMBER_HEADER, MATTER_HEADER, PurposeError, requireMatter } from '../authorization/purpose-binding.js';
import { rejection } from '../errors.js';
import type { GatewayPlugin, GraphQLAnswer } from '../pipeline/plugin.js';
import { decodedHeader, header } from '../pipeline/request-headers.js';

export interface PurposeOptions {
  /** The cross-province matters and the scopes each needs. */
  matters: MatterCatalog;
}

function refusal(error: PurposeError): GraphQLAnswer {
  return { status: ERRORS[error.code].status, payload: { errors: [{ message: error.message, extensions: { code: error.code } }] } };
}

/**
 * Purpose binding (PIPL arts. 6 and 34): at admission, the declared matter
 * (`x-matter-code`) and case number (`x-case-number`) are checked against the
 * catalogue and the token, and the effective scopes become the token's
 * scopes the matter needs; once the scopes plugin knows what the operation
 * asks for, an operation that reads personal data without a matter is
 * refused (MATTER_REQUIRED).
 */
export function usePurpose(options: PurposeOptions): GatewayPlugin {
  const { matters } = options;
  return {
    name: 'purpose',
    after: ['authentication', 'scopes'],
    onAdmission(request, context) {
      const caller = context.caller;
      if (caller === null) return undefined; // not authenticated: admission refuses it anyway
      try {
        context.purpose = bindPurpose({
          catalog: matters,
          tokenScopes: caller.scopes,
          tokenMatters: caller.matters,
          matterCode: header(request, MATTER_HEADER),
          caseNumber: decodedHeader(request, CASE_NUMBER_HEADER),
        });
        return undefined;
      } catch (error) {
        if (!(error instanceof PurposeError)) throw error;
        return rejection(error.code, {}, {}, error.message);
      }
    },
    onAuthorise(_operation, context) {
      if (context.authorization === null) return undefined; // no decision: the engine refuses it
      try {
        requireMatter(context.purpose, context.authorization.requirements);
        return undefined;
      } catch (error) {
        if (!(error instanceof PurposeError)) throw error;
        return refusal(error);
      }
    },
  };
}
