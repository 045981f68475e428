/**
 * Registered market entities (市场主体) of the licences register: limited
 * companies, individual businesses (个体工商户) and farmers' cooperatives
 * (农民专业合作社), with valid credit codes, names that follow the naming
 * rules (行政区划 + 字号 + 行业 + 组织形式), a legal representative, capital,
 * address, business scope and registration status.
 *
 * Organisations are generated before persons and kept in memory (one small
 * object each: 100 000 at one million persons): persons pick their employers
 * among them, so every employer code in social insurance and the provident
 * fund is an organisation of this register.
 */
import { regionOf } from '../../common/regions.js';
import { TODAY, addYears, dayOf, type Day } from './calendar.js';
import { ethnicityFor } from './ethnicities.js';
import { creditCode, generatedOrganisationDigits, type EntityKind } from './identifiers.js';
import { anyName, namingStyleOf, surnameFor, turkicGivenName, type Sex } from './names.js';
import {
  PROVINCE_COUNTIES,
  PROVINCES_BY_POPULATION,
  businessStreet,
  cityShortName,
  isRuralCounty,
  provinceCodeOfCounty,
  townshipsOf,
} from './places.js';
import { type Random, WeightedList, weighted } from './random.js';

export type OrganisationStatus = 'ACTIVE' | 'REVOKED' | 'DEREGISTERED';

/** An organisation as the seeder keeps it: the register row plus what employment needs. */
export interface OrganisationRecord {
  creditCode: string;
  name: string;
  kind: EntityKind;
  /** 类型 as printed on the licence, e.g. 有限责任公司(自然人投资或控股). */
  entityType: string;
  legalRepresentative: string;
  /** Registered capital in 万元 × 100; null for individual businesses. */
  capitalWanFen: number | null;
  established: Day;
  county: string;
  /** Street part of the address (the region names are prefixed when written). */
  street: string;
  businessScope: string;
  status: OrganisationStatus;
  /** Day of revocation or deregistration; null while ACTIVE. */
  statusChanged: Day | null;
  /** Operating term end (营业期限至); null for long-term. */
  termEnds: Day | null;
  /** When it registered as an employer with the social-insurance agency and the fund centre. */
  employerRegistered: Day;
  /** Relative number of employees: how often persons pick it as employer. */
  weight: number;
  /** Provident-fund deposit rate it pays, percent; 0 when it does not deposit for its staff. */
  fundRatePercent: number;
  /** Work-injury insurance rate by industry risk, in basis points of the base (0.2 %-1.9 %). */
  workInjuryBasisPoints: number;
  /** Months it is behind with contributions and deposits (0 when paying on time). */
  arrearsMonths: number;
  /** Relative pay level of its staff. */
  payFactor: number;
  /** Day of the last registered change (变更登记), if any. */
  amended: { on: Day; note: string } | null;
}

interface Industry {
  word: string;
  scope: string;
  workInjuryBasisPoints: number;
  payFactor: number;
}

const industry = (word: string, scope: string, workInjuryBasisPoints: number, payFactor = 1): Industry => ({
  word,
  scope,
  workInjuryBasisPoints,
  payFactor,
});

const INDUSTRIES: readonly Industry[] = [
  industry('建筑工程', '房屋建筑工程施工；市政公用工程施工；建筑装饰装修工程设计与施工；建筑材料销售。', 150),
  industry('商贸', '日用百货、五金交电、建筑材料、农副产品的销售；货物进出口。', 40, 0.9),
  industry('信息技术', '软件开发；信息系统集成服务；信息技术咨询服务；数据处理和存储支持服务。', 20, 1.5),
  industry('餐饮管理', '餐饮服务；餐饮管理；食品销售。', 50, 0.8),
  industry('物流', '道路货物运输（不含危险货物）；普通货物仓储服务；国内货物运输代理。', 120),
  industry('农业开发', '农作物种植；农产品初加工；农业技术推广服务。', 60, 0.8),
  industry('房地产开发', '房地产开发经营；物业管理；房地产经纪。', 60, 1.2),
  industry('医药', '药品零售；第二类医疗器械销售；保健食品销售。', 30, 1.1),
  industry('文化传媒', '广告设计、代理、制作、发布；组织文化艺术交流活动；会议及展览服务。', 20, 1.1),
  industry('环保科技', '环保咨询服务；污水处理及其再生利用；固体废物治理。', 80),
  industry('机械设备', '通用设备制造；机械设备销售；机械设备租赁。', 130),
  industry('电子科技', '电子元器件制造；电子产品销售；技术服务、技术开发、技术咨询。', 60, 1.2),
  industry('食品', '食品生产；食品销售；农副食品加工。', 90, 0.9),
  industry('旅游开发', '旅游业务；旅游开发项目策划咨询；酒店管理。', 40),
  industry('物业管理', '物业管理；家政服务；停车场服务。', 50, 0.8),
  industry('劳务', '劳务服务（不含劳务派遣）；人力资源服务；建筑劳务分包。', 150, 0.8),
  industry('汽车销售服务', '汽车新车销售；汽车零配件零售；机动车修理和维护。', 60),
  industry('装饰工程', '住宅室内装饰装修；建筑装饰材料销售；家具安装和维修服务。', 130),
  industry('教育咨询', '教育咨询服务（不含涉许可审批的教育培训活动）；中小学生校外托管服务。', 20),
  industry('新能源科技', '太阳能发电技术服务；风力发电技术服务；新能源原动设备销售。', 70, 1.2),
];

/** Industries typical of some provinces, mixed in with the common ones. */
const REGIONAL_INDUSTRIES: Record<string, readonly Industry[]> = {
  '540000': [
    industry('藏医药', '藏药材种植；中药饮片加工；药品生产；药品批发。', 60),
    industry('民族手工艺品', '工艺美术品及礼仪用品制造；民族特色商品销售；唐卡、藏毯制作。', 40, 0.9),
    industry('高原农牧', '牲畜饲养；青稞种植；牦牛肉制品加工。', 80, 0.8),
  ],
  '650000': [
    industry('干果', '坚果、干果加工；农副产品销售；货物进出口。', 70, 0.8),
    industry('纺织', '棉纺纱加工；针纺织品及原料销售；服装制造。', 90, 0.8),
  ],
  '430000': [industry('茶业', '茶叶种植；茶叶制品生产；茶具销售。', 50, 0.9)],
  '630000': [industry('枸杞', '枸杞种植；农产品初加工；食用农产品批发。', 60, 0.8)],
};

const BRAND_FIRST = '恒华宏金瑞永鼎天汇博盛德嘉新中东远锦隆海弘昊睿和安富康星晨泰';
const BRAND_SECOND = '信鑫远诚丰泰盛成通雅世润禾宇联方航程达纳毅智邦源辉腾利';

const LLC_TYPES = weighted({
  '有限责任公司(自然人投资或控股)': 70,
  '有限责任公司(自然人独资)': 14,
  '有限责任公司(非自然人投资或控股的法人独资)': 8,
  '有限责任公司(国有独资)': 3,
  '有限责任公司(外商投资、非独资)': 1,
});
const CAPITAL_WAN = new WeightedList([
  [10, 8],
  [30, 8],
  [50, 14],
  [100, 20],
  [200, 12],
  [300, 8],
  [500, 12],
  [1000, 10],
  [2000, 4],
  [5000, 3],
  [10000, 1],
] as const);

/** Provident-fund deposit rates employers choose (5-12 %; 12 % at state-owned and large firms). */
const FUND_RATES = new WeightedList([
  [12, 25],
  [10, 10],
  [8, 15],
  [7, 10],
  [5, 40],
] as const);

const SHOPS = [
  '便利店',
  '米粉店',
  '小吃店',
  '五金店',
  '理发店',
  '水果店',
  '服装店',
  '手机维修店',
  '烟酒商行',
  '超市',
  '副食店',
  '家电维修部',
  '汽车修理部',
  '面馆',
  '蔬菜店',
  '建材经营部',
];
const REGIONAL_SHOPS: Record<string, readonly string[]> = {
  '540000': ['甜茶馆', '藏餐馆', '民族用品店', '酥油茶店'],
  '650000': ['馕店', '烤肉店', '干果店', '民族服饰店'],
  '630000': ['手抓羊肉馆', '牛肉面馆'],
  '640000': ['清真餐馆', '牛肉面馆'],
};
const SHOP_SCOPES: Record<string, string> = {
  馕店: '馕制品加工与销售；食品销售（仅销售预包装食品）。',
  甜茶馆: '茶饮服务；餐饮服务。',
  汽车修理部: '机动车修理和维护；汽车零配件零售。',
  理发店: '理发服务；美容服务。',
  手机维修店: '通讯设备修理；通信设备销售。',
  五金店: '五金产品零售；建筑材料销售。',
  建材经营部: '建筑材料销售；五金产品零售。',
  家电维修部: '日用电器修理；家用电器销售。',
};

const COOPERATIVE_PRODUCTS: Record<string, readonly [string, '种植' | '养殖'][]> = {
  '540000': [
    ['青稞', '种植'],
    ['牦牛', '养殖'],
    ['藏香猪', '养殖'],
    ['蔬菜', '种植'],
  ],
  '650000': [
    ['巴旦木', '种植'],
    ['红枣', '种植'],
    ['核桃', '种植'],
    ['棉花', '种植'],
    ['肉羊', '养殖'],
  ],
  '660000': [
    ['棉花', '种植'],
    ['番茄', '种植'],
    ['葡萄', '种植'],
  ],
  '430000': [
    ['柑橘', '种植'],
    ['油茶', '种植'],
    ['茶叶', '种植'],
    ['生猪', '养殖'],
  ],
  '630000': [
    ['枸杞', '种植'],
    ['牦牛', '养殖'],
    ['藜麦', '种植'],
    ['油菜', '种植'],
  ],
  '640000': [
    ['枸杞', '种植'],
    ['滩羊', '养殖'],
    ['马铃薯', '种植'],
  ],
};
const COMMON_PRODUCTS: readonly [string, '种植' | '养殖'][] = [
  ['蔬菜', '种植'],
  ['水果', '种植'],
  ['苗木', '种植'],
  ['中药材', '种植'],
  ['生猪', '养殖'],
  ['肉牛', '养殖'],
  ['水稻', '种植'],
];

const AMENDMENTS = ['法定代表人变更', '经营范围变更', '住所变更', '注册资本变更', '股东变更'];

function establishedDay(rng: Random): Day {
  // Most market entities are young: years before 2026 fall off like a half-normal with σ = 8.
  const year = Math.max(1993, 2026 - Math.floor(Math.abs(rng.normal()) * 8));
  const day = dayOf(year, 1, 1) + rng.int(0, 364);
  return Math.min(day, TODAY - rng.int(20, 200));
}

/** Trade names (字号) of well-known real groups: the synthetic register must not borrow them. */
const FAMOUS_BRANDS = new Set(['中信', '华润', '海信', '安邦', '中联', '东方', '天利', '中通', '恒信', '海航', '中航', '中泰', '宏达', '东航']);

function brand(rng: Random): string {
  for (;;) {
    const mark = BRAND_FIRST.charAt(rng.int(0, BRAND_FIRST.length - 1)) + BRAND_SECOND.charAt(rng.int(0, BRAND_SECOND.length - 1));
    if (!FAMOUS_BRANDS.has(mark)) return mark;
  }
}

/** Options of one generated organisation. */
export interface OrganisationDraftOptions {
  /** Place it in this province (used to give every province at least one employer). */
  province?: string;
  /** Force an active limited company. */
  activeEnterprise?: boolean;
}

/**
 * Generates the organisation number `index` (0-based among generated ones).
 * `takenNames` keeps names unique, as the registration rules require.
 */
export function generateOrganisation(
  rng: Random,
  index: number,
  takenNames: Set<string>,
  options: OrganisationDraftOptions = {},
): OrganisationRecord {
  const province = options.province ?? PROVINCES_BY_POPULATION.pick(rng);
  const county = rng.pick(PROVINCE_COUNTIES.get(province)!);
  const rural = isRuralCounty(county);
  const kind: EntityKind = options.activeEnterprise
    ? 'ENTERPRISE'
    : weighted(
        rural ? { ENTERPRISE: 35, INDIVIDUAL_BUSINESS: 35, COOPERATIVE: 30 } : { ENTERPRISE: 62, INDIVIDUAL_BUSINESS: 33, COOPERATIVE: 5 },
      ).pick(rng);
  const ethnicity = ethnicityFor(rng, county);
  const repSex: Sex = rng.chance(0.75) ? 'MALE' : 'FEMALE';
  const legalRepresentative = anyName(rng, ethnicity, repSex, rng.int(1960, 1998));
  const established = establishedDay(rng);

  let name = '';
  let entityType: string;
  let capitalWanFen: number | null;
  let businessScope: string;
  let weight: number;
  let workInjuryBasisPoints = 40;
  let payFactor = 1;
  let fundRatePercent = 0;

  if (kind === 'ENTERPRISE') {
    const industries = [...INDUSTRIES, ...(REGIONAL_INDUSTRIES[province] ?? [])];
    const chosen = rng.pick(industries);
    const joint = rng.chance(0.05);
    entityType = joint ? '股份有限公司(非上市、自然人投资或控股)' : LLC_TYPES.pick(rng);
    const form = joint ? '股份有限公司' : '有限公司';
    for (let attempt = 0; attempt < 8 && (name === '' || takenNames.has(name)); attempt++) {
      const mark = attempt < 4 ? brand(rng) : brand(rng) + brand(rng).charAt(0);
      name = `${cityShortName(county)}${mark}${chosen.word}${form}`;
    }
    capitalWanFen = (joint ? CAPITAL_WAN.pick(rng) * 10 : CAPITAL_WAN.pick(rng)) * 100;
    businessScope = chosen.scope;
    workInjuryBasisPoints = chosen.workInjuryBasisPoints;
    payFactor = chosen.payFactor;
    weight = Math.min(400, Math.max(1, Math.exp(1.3 + 1.2 * rng.normal()))) * (joint ? 3 : 1);
    if (rng.chance(Math.min(0.92, 0.45 + weight / 60))) {
      fundRatePercent = FUND_RATES.pick(rng);
    }
  } else if (kind === 'INDIVIDUAL_BUSINESS') {
    const shop = rng.pick([...SHOPS, ...(REGIONAL_SHOPS[province] ?? []), ...(REGIONAL_SHOPS[province] ?? [])]);
    const countyName = regionOf(county).name ?? '';
    for (let attempt = 0; attempt < 8 && (name === '' || takenNames.has(name)); attempt++) {
      name = `${countyName}${shopOwnerMark(rng, ethnicity, legalRepresentative, attempt)}${shop}`;
    }
    entityType = '个体工商户';
    capitalWanFen = null;
    businessScope = SHOP_SCOPES[shop] ?? '日用百货零售；食品销售（仅销售预包装食品）；餐饮服务（不产生油烟、异味、废气）。';
    weight = 0.4;
    fundRatePercent = rng.chance(0.05) ? 5 : 0;
  } else {
    const [product, way] = rng.pick(COOPERATIVE_PRODUCTS[province] ?? COMMON_PRODUCTS);
    const countyName = regionOf(county).name ?? '';
    for (let attempt = 0; attempt < 8 && (name === '' || takenNames.has(name)); attempt++) {
      const place = townshipsOf(county) ? rng.pick(townshipsOf(county)!) : `${brand(rng)}${rng.chance(0.5) ? '村' : ''}`;
      name = `${countyName}${place}${product}${way}农民专业合作社`;
    }
    entityType = '农民专业合作社';
    capitalWanFen = rng.pick([10, 20, 50, 100, 200, 300, 500]) * 100;
    businessScope = `${product}${way}；${way === '种植' ? '农产品初加工、储藏、销售' : '畜禽粪污处理、畜产品销售'}；为成员提供农业生产资料购买和技术信息服务。`;
    weight = 0.6;
    workInjuryBasisPoints = 60;
    payFactor = 0.7;
    fundRatePercent = rng.chance(0.1) ? 5 : 0;
  }
  if (takenNames.has(name))
    name = `${name.replace(/(有限公司|股份有限公司|农民专业合作社)$/, '')}${index}号${name.match(/(股份有限公司|有限公司|农民专业合作社)$/)?.[0] ?? ''}`;
  takenNames.add(name);

  let status: OrganisationStatus = 'ACTIVE';
  let statusChanged: Day | null = null;
  if (!options.activeEnterprise && TODAY - established > 2 * 365) {
    const r = rng.next();
    if (r < 0.05) status = 'REVOKED';
    else if (r < 0.12) status = 'DEREGISTERED';
    if (status !== 'ACTIVE') statusChanged = established + rng.int(400, TODAY - established - 30);
  }
  // A fixed operating term (营业期限) that has run out would have been extended: only future ends are kept.
  const term = kind === 'ENTERPRISE' && rng.chance(0.35) ? addYears(established, rng.pick([20, 30, 50])) - 1 : null;
  const termEnds = term !== null && term > TODAY ? term : null;
  const amendable = (statusChanged ?? TODAY) - established > 200;
  const amended =
    amendable && rng.chance(0.3) ? { on: established + rng.int(100, (statusChanged ?? TODAY) - established - 50), note: rng.pick(AMENDMENTS) } : null;

  return {
    creditCode: creditCode(kind, county, generatedOrganisationDigits(index)),
    name,
    kind,
    entityType,
    legalRepresentative,
    capitalWanFen,
    established,
    county,
    street: businessStreet(rng, county),
    businessScope,
    status,
    statusChanged,
    termEnds,
    employerRegistered: established + rng.int(10, 90),
    weight,
    fundRatePercent,
    workInjuryBasisPoints,
    arrearsMonths: status === 'ACTIVE' && kind !== 'INDIVIDUAL_BUSINESS' && rng.chance(0.04) ? rng.int(2, 6) : 0,
    payFactor,
    amended,
  };
}

/** The part of an individual business's name that names its owner: 李记, 扎西, 买买提. */
function shopOwnerMark(rng: Random, ethnicity: string, operator: string, attempt: number): string {
  const style = namingStyleOf(ethnicity);
  if (style === 'TURKIC') return attempt === 0 ? operator.split('·')[0] : turkicGivenName(rng, ethnicity, 'MALE');
  if (style === 'TIBETAN') return attempt === 0 ? operator : brand(rng);
  if (attempt === 0 && rng.chance(0.5)) return `${operator.charAt(0)}记`;
  return rng.chance(0.5) ? `${surnameFor(rng, ethnicity)}记` : brand(rng);
}

/** The organisations of one run, with the lookups persons need to find employers. */
export class OrganisationDirectory {
  readonly all: OrganisationRecord[] = [];
  private readonly byCode = new Map<string, number>();
  private employerLists: Map<string, WeightedList<OrganisationRecord>> | null = null;
  private readonly enterprisesByCounty = new Map<string, OrganisationRecord[]>();

  add(organisation: OrganisationRecord): number {
    if (this.byCode.has(organisation.creditCode)) throw new Error(`duplicate credit code ${organisation.creditCode}`);
    const index = this.all.length;
    this.all.push(organisation);
    this.byCode.set(organisation.creditCode, index);
    this.employerLists = null;
    if (organisation.status === 'ACTIVE' && organisation.kind === 'ENTERPRISE') {
      const list = this.enterprisesByCounty.get(organisation.county) ?? [];
      list.push(organisation);
      this.enterprisesByCounty.set(organisation.county, list);
    }
    return index;
  }

  indexOf(creditCode: string): number {
    const index = this.byCode.get(creditCode);
    if (index === undefined) throw new Error(`unknown organisation ${creditCode}`);
    return index;
  }

  get(creditCode: string): OrganisationRecord {
    return this.all[this.indexOf(creditCode)];
  }

  /**
   * Gives one organisation `share` of its province's employee jobs (the big
   * demo employer), relative to the organisations added so far.
   */
  assignShare(creditCode: string, share: number): void {
    const organisation = this.get(creditCode);
    const province = provinceCodeOfCounty(organisation.county);
    let others = 0;
    for (const other of this.all) {
      if (other !== organisation && other.status === 'ACTIVE' && provinceCodeOfCounty(other.county) === province) others += other.weight;
    }
    organisation.weight = others > 0 ? (others * share) / (1 - share) : 1;
    this.employerLists = null;
  }

  /** An active employer in `province`, by size; null when the province has none. */
  pickEmployer(rng: Random, province: string): OrganisationRecord | null {
    if (!this.employerLists) this.employerLists = this.buildEmployerLists();
    return this.employerLists.get(province)?.pick(rng) ?? null;
  }

  /** Active limited companies of a county (for company collective households). */
  enterprisesIn(county: string): readonly OrganisationRecord[] {
    return this.enterprisesByCounty.get(county) ?? [];
  }

  private buildEmployerLists(): Map<string, WeightedList<OrganisationRecord>> {
    const byProvince = new Map<string, [OrganisationRecord, number][]>();
    for (const organisation of this.all) {
      if (organisation.status !== 'ACTIVE') continue;
      const province = provinceCodeOfCounty(organisation.county);
      const list = byProvince.get(province) ?? [];
      list.push([organisation, organisation.weight]);
      byProvince.set(province, list);
    }
    return new Map([...byProvince].map(([province, list]) => [province, new WeightedList(list)]));
  }
}
