/**
 * Issuing authorities (发证机关) as seal holders: a stable id made of the
 * GB/T 2260 code of the region the authority serves and its kind
 * (`430100-social-insurance`, `540100-provident-fund`), its Chinese name
 * and its province. One seal key set per authority.
 */
import { PROVINCES, provinceCodeOf } from '../regions.js';
import { SealAuthorityError } from './errors.js';

/** An authority as given by the caller. */
export interface SealAuthorityInput {
  /** `<6-digit region code>-<kind>`, lower-case kebab, e.g. `430100-social-insurance`. */
  id: string;
  /** Chinese name, e.g. 长沙市社会保险服务中心. */
  name: string;
  /** Province-level code; default: the province of the id's region code. */
  province?: string;
}

/** An authority, validated, with its province's name filled in. */
export interface SealAuthority {
  id: string;
  name: string;
  province: string;
  provinceName: string;
}

/** Authority ids: region code, then a kebab-case kind. Also a folder name, so nothing else is allowed. */
export const SEAL_AUTHORITY_ID = /^\d{6}-[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const MAX_ID_LENGTH = 64;

const provinceNames: ReadonlyMap<string, string> = new Map(PROVINCES.map((p) => [p.code, p.name]));

/** Name of a province-level code, or undefined when it is not one. */
export function provinceNameOf(code: string): string | undefined {
  return provinceNames.get(code);
}

/**
 * Checks an authority id, throwing when it is not `<region>-<kind>`. Ids
 * become folder names under `<dataDir>/seals/`, so this is also what keeps
 * `../` out of paths.
 */
export function checkSealAuthorityId(id: unknown, field = 'id'): string {
  if (typeof id !== 'string' || id.length > MAX_ID_LENGTH || !SEAL_AUTHORITY_ID.test(id)) {
    throw new SealAuthorityError(
      field,
      `must be a 6-digit region code and a lower-case kebab-case kind such as 430100-social-insurance (at most ${MAX_ID_LENGTH} characters), got ${JSON.stringify(id)}`,
    );
  }
  return id;
}

/**
 * Validates an authority and fills its province from the id's region code.
 * A province that contradicts the region code is refused: the id is what
 * documents and the trust list key on, so the two must tell the same story.
 *
 * @throws {SealAuthorityError} naming the bad field.
 */
export function normalizeSealAuthority(input: SealAuthorityInput): SealAuthority {
  if (typeof input !== 'object' || input === null) throw new SealAuthorityError('(authority)', 'must be an object');
  const id = checkSealAuthorityId(input.id);
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name === '') throw new SealAuthorityError('name', "must be a non-empty string (the authority's Chinese name)");
  const derived = provinceCodeOf(id.slice(0, 6));
  if (provinceNameOf(derived) === undefined) {
    throw new SealAuthorityError('id', `starts with region code ${id.slice(0, 6)}, which is in no known province (${derived})`);
  }
  const province = input.province ?? derived;
  const provinceName = provinceNameOf(province);
  if (provinceName === undefined) {
    throw new SealAuthorityError('province', `must be a GB/T 2260 province-level code such as 430000, got ${JSON.stringify(province)}`);
  }
  if (province !== derived) {
    throw new SealAuthorityError('province', `${province} contradicts the region code of id ${id} (province ${derived})`);
  }
  return Object.freeze({ id, name, province, provinceName });
}
