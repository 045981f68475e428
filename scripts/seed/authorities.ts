/**
 * Names of the government bodies that keep, issue or decide the seeded
 * records, each with the region code it sits in (an `Authority` of the
 * schemas). Names follow the real patterns: 拉萨市公安局城关分局八廓街派出所,
 * 长沙市社会保险服务中心, 喀什地区中级人民法院, 莎车县人民法院, …
 */
import { cityNameOf, regionOf } from '../../common/regions.js';
import { dayOf, type Day } from './calendar.js';
import { cityRegionOf, countyShortName, isDistrict, isMunicipality, policeStationsOf, provinceCodeOfCounty, provinceName } from './places.js';
import type { Random } from './random.js';

export interface Authority {
  name: string;
  /** GB/T 2260 code of the region the body sits in. */
  region: string;
}

/** The public-security bureau of a county: 长沙市公安局岳麓分局 for a district, 莎车县公安局 for a county. */
export function publicSecurityBureauOf(county: string): string {
  if (isDistrict(county)) return `${cityNameOf(county)}公安局${countyShortName(county)}分局`;
  return `${regionOf(county).name}公安局`;
}

/** A police station keeping household registers in `county` (登记机关). */
export function householdAuthority(rng: Random, county: string): Authority {
  return { name: `${publicSecurityBureauOf(county)}${rng.pick(policeStationsOf(county))}`, region: county };
}

/** The police station at a fixed index: stable for a household across its members and events. */
export function householdAuthorityAt(county: string, station: number): Authority {
  const stations = policeStationsOf(county);
  return { name: `${publicSecurityBureauOf(county)}${stations[station % stations.length]}`, region: county };
}

/** Some provinces name their city agencies 社会保险事业管理局, the others 社会保险服务中心. */
const SOCIAL_INSURANCE_BUREAU_PROVINCES = new Set(['130000', '140000', '230000', '410000', '540000', '620000', '630000', '650000']);

/** Caches an authority per county: the hot loop asks for the same few dozen bodies millions of times. */
function perCounty(build: (county: string) => Authority): (county: string) => Authority {
  const cache = new Map<string, Authority>();
  return (county) => {
    let authority = cache.get(county);
    if (!authority) {
      authority = Object.freeze(build(county));
      cache.set(county, authority);
    }
    return authority;
  };
}

/** The social-insurance agency (社保经办机构) of the city a county belongs to. */
export const socialInsuranceAgency = perCounty((county) => {
  const kind = SOCIAL_INSURANCE_BUREAU_PROVINCES.has(provinceCodeOfCounty(county)) ? '社会保险事业管理局' : '社会保险服务中心';
  return { name: `${cityNameOf(county)}${kind}`, region: cityRegionOf(county) };
});

/** The housing-provident-fund centre (住房公积金管理中心) of the city a county belongs to. */
export const providentFundCentre = perCounty((county) => ({ name: `${cityNameOf(county)}住房公积金管理中心`, region: cityRegionOf(county) }));

/** City-level market regulator: registers enterprises and issues their business licences. */
export function cityMarketRegulator(county: string): Authority {
  return { name: `${cityNameOf(county)}市场监督管理局`, region: cityRegionOf(county) };
}

/** County-level market regulator: registers individual businesses (个体工商户). */
export function countyMarketRegulator(county: string): Authority {
  if (!isDistrict(county)) return { name: `${regionOf(county).name}市场监督管理局`, region: county };
  return { name: `${cityNameOf(county)}${regionOf(county).name}市场监督管理局`, region: county };
}

/** The 2018 reform merged the 工商行政管理局 into the new 市场监督管理局 (in place everywhere by 2019). */
const MARKET_REGULATION_REFORM = dayOf(2019, 1, 1);

/** The market regulator of `county` as it was named on `on`: city level, or county level for individual businesses. */
export function marketRegulatorOn(county: string, on: Day, countyLevel: boolean): Authority {
  const current = countyLevel ? countyMarketRegulator(county) : cityMarketRegulator(county);
  return on < MARKET_REGULATION_REFORM ? { ...current, name: current.name.replace('市场监督管理局', '工商行政管理局') } : current;
}

/** Short form used in decision numbers: 市监 after the reform, 工商 before. */
export function marketRegulatorShortOn(on: Day): string {
  return on < MARKET_REGULATION_REFORM ? '工商' : '市监';
}

/** Tax inspection bureau of a city (国家税务总局…税务局稽查局): decides tax penalties. */
export function taxInspectionBureau(county: string): Authority {
  return { name: `国家税务总局${cityNameOf(county)}税务局稽查局`, region: cityRegionOf(county) };
}

/** Provincial tax bureau: rates taxpayers (纳税信用A级). */
export function provincialTaxBureau(county: string): Authority {
  return { name: `国家税务总局${provinceName(county)}税务局`, region: provinceCodeOfCounty(county) };
}

export function ecologyBureau(county: string): Authority {
  return { name: `${cityNameOf(county)}生态环境局`, region: cityRegionOf(county) };
}

export function cityGovernment(county: string): Authority {
  return { name: `${cityNameOf(county)}人民政府`, region: cityRegionOf(county) };
}

export function provincialHealthCommission(county: string): Authority {
  return { name: `${provinceName(county)}卫生健康委员会`, region: provinceCodeOfCounty(county) };
}

/** Basic-level court of a county: 长沙市岳麓区人民法院, 莎车县人民法院. */
export function basicCourt(county: string): Authority {
  const name = regionOf(county).name;
  return { name: isDistrict(county) ? `${cityNameOf(county)}${name}人民法院` : `${name}人民法院`, region: county };
}

/** Intermediate court of the city: 喀什地区中级人民法院; municipalities have numbered ones. */
export function intermediateCourt(county: string): Authority {
  const city = cityNameOf(county);
  const numbered = isMunicipality(provinceCodeOfCounty(county)) ? '第一' : '';
  return { name: `${city}${numbered}中级人民法院`, region: cityRegionOf(county) };
}

/** Traffic police of a province: issues driving licences. */
export function trafficPolice(provinceCode: string, provinceFullName: string): Authority {
  if (isMunicipality(provinceCode)) return { name: `${provinceFullName}公安局公安交通管理局`, region: provinceCode };
  if (provinceCode === '660000') return { name: '新疆生产建设兵团公安局交通警察总队', region: provinceCode };
  return { name: `${provinceFullName}公安厅交通警察总队`, region: provinceCode };
}

/** Provincial human-resources department: issues professional qualification certificates. */
export function humanResourcesDepartment(provinceCode: string, provinceFullName: string): Authority {
  if (provinceCode === '660000') return { name: '新疆生产建设兵团人力资源和社会保障局', region: provinceCode };
  const suffix = isMunicipality(provinceCode) ? '人力资源和社会保障局' : '人力资源和社会保障厅';
  return { name: `${provinceFullName}${suffix}`, region: provinceCode };
}
