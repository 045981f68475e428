import { regionOf, type RegionInfo } from '../../common/regions.js';

/** An `Authority` as the schemas expose it. */
export interface AuthorityValue {
  name: string;
  region: RegionInfo;
}

/** Builds the `Authority` value from the two columns every store keeps. */
export function authority(name: string, regionCode: string): AuthorityValue {
  return { name, region: regionOf(regionCode) };
}

export { regionOf };
