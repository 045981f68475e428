/**
 * Places for the synthetic data: which province a record lands in, the
 * city-level region an authority sits in, short names used in document
 * numbers, and street addresses that read like real Chinese ones.
 *
 * The counties are those of common/regions.ts. A few counties named
 * in the seed documents (拉萨城关, 山南乃东, 长沙, 西宁城东, 喀什, 莎车) get
 * their own road and township names; the others share a pool of the road
 * names every Chinese city has.
 */
import { PROVINCES, countiesOf, cityNameOf, regionOf, type Province } from '../../common/regions.js';
import { type Random, WeightedList } from './random.js';

/** Province-level divisions with their county codes (all have at least one). */
export const PROVINCE_COUNTIES: ReadonlyMap<string, readonly string[]> = new Map(PROVINCES.map((p) => [p.code, countiesOf(p.code)]));

/** Every county code the seeder uses, in a fixed order (indexes the ID-number allocator). */
export const ALL_COUNTIES: readonly string[] = PROVINCES.flatMap((p) => PROVINCE_COUNTIES.get(p.code)!);

export const PROVINCE_BY_CODE: ReadonlyMap<string, Province> = new Map(PROVINCES.map((p) => [p.code, p]));

/** Province code of a county (the Corps county 659001 belongs to 660000, not 650000). */
export function provinceCodeOfCounty(county: string): string {
  return regionOf(county).provinceCode;
}

/** Provinces weighted by resident population: where people live. */
export const PROVINCES_BY_POPULATION = new WeightedList(PROVINCES.map((p) => [p.code, p.populationMillions] as const));

const MUNICIPALITIES = new Set(['110000', '120000', '310000', '500000']);

export function isMunicipality(provinceCode: string): boolean {
  return MUNICIPALITIES.has(provinceCode);
}

/**
 * The city-level region an authority of `county` sits in: the prefecture when
 * the reference list knows it, the municipality itself for 北京/天津/上海/重庆,
 * and the Corps city itself for 石河子. Always a code `regionOf` resolves.
 */
export function cityRegionOf(county: string): string {
  const prefecture = `${county.slice(0, 4)}00`;
  if (regionOf(prefecture).name) return prefecture;
  const province = provinceCodeOfCounty(county);
  return province === '660000' ? county : province;
}

/** City name without 市/地区, as used in company names: 拉萨, 喀什, 北京. */
export function cityShortName(county: string): string {
  return cityNameOf(county).replace(/(市|地区)$/, '');
}

/** County name without its suffix, as used in 分局 names: 城关, 岳麓, 浦东. */
export function countyShortName(county: string): string {
  const name = regionOf(county).name ?? '';
  return name.length > 2 ? name.replace(/(新区|区|县|市)$/, '') : name;
}

/** True for city districts (区), which have a 分局 of the city bureau; counties and county-level cities have their own bureau. */
export function isDistrict(county: string): boolean {
  return (regionOf(county).name ?? '').endsWith('区');
}

/** True for rural counties (县): farming households, fewer employees, village addresses. */
export function isRuralCounty(county: string): boolean {
  return (regionOf(county).name ?? '').endsWith('县');
}

/**
 * One-character short name used in document numbers (拉市监处罚〔2025〕17号):
 * the province abbreviation for municipalities, else the city's first character.
 */
export function cityAbbreviation(county: string): string {
  const province = provinceCodeOfCounty(county);
  if (isMunicipality(province)) return PROVINCE_BY_CODE.get(province)!.abbreviation;
  return cityShortName(county).charAt(0);
}

export function provinceAbbreviation(county: string): string {
  return PROVINCE_BY_CODE.get(provinceCodeOfCounty(county))!.abbreviation;
}

export function provinceName(county: string): string {
  return PROVINCE_BY_CODE.get(provinceCodeOfCounty(county))!.name;
}

const COMMON_ROADS = [
  '人民路',
  '解放路',
  '建设路',
  '中山路',
  '新华路',
  '和平路',
  '胜利路',
  '文化路',
  '长江路',
  '黄河路',
  '朝阳路',
  '光明路',
  '幸福路',
  '青年路',
  '东风路',
  '红旗路',
  '育才路',
  '花园路',
  '滨江路',
  '环城路',
  '工业路',
  '团结路',
  '振兴路',
  '迎宾路',
  '健康路',
  '体育路',
  '站前路',
  '府前街',
  '东大街',
  '西大街',
  '南大街',
  '北大街',
  '学府路',
  '科技路',
  '友谊路',
  '新村路',
  '金桥路',
  '翠湖路',
  '春华街',
  '兴业路',
];

/** Real road names of the counties the seed documents are about. */
const LOCAL_ROADS: Record<string, readonly string[]> = {
  '540102': [
    '北京中路',
    '北京东路',
    '北京西路',
    '江苏路',
    '金珠中路',
    '林廓东路',
    '林廓北路',
    '宇拓路',
    '朵森格路',
    '娘热路',
    '扎基路',
    '色拉路',
    '纳金路',
    '夺底路',
    '藏大东路',
  ],
  '540502': ['乃东路', '湖南路', '格桑路', '泽当大道', '安徽路', '萨热路', '贡布路'],
  '430102': ['五一大道', '解放西路', '八一路', '韶山北路', '人民东路', '远大路', '车站北路', '东二环'],
  '430104': ['麓山南路', '枫林一路', '桐梓坡路', '岳麓大道', '金星中路', '银双路', '望月湖路', '阜埠河路'],
  '630102': ['八一路', '东关大街', '建国路', '互助中路', '康宁路', '昆仑东路', '德令哈路', '南山东路'],
  '653101': ['人民西路', '人民东路', '解放北路', '色满路', '吐曼路', '克孜都维路', '东湖路', '帕哈太克里路'],
  '653125': ['叶尔羌路', '阿勒屯路', '人民路', '团结路', '友谊路', '交通路', '新城路', '阿曼尼沙汗路'],
  '659001': ['北一路', '北四路', '东三路', '西二路', '红星路', '子午路', '乌伊路', '天富路'],
};

/** Townships (乡镇) of the rural counties: village addresses and police stations. */
const TOWNSHIPS: Record<string, readonly string[]> = {
  '653125': [
    '莎车镇',
    '恰热克镇',
    '艾力西湖镇',
    '荒地镇',
    '阿瓦提镇',
    '白什坎特镇',
    '依盖尔其镇',
    '古勒巴格镇',
    '米夏镇',
    '托木吾斯塘镇',
    '阿扎特巴格镇',
    '孜热甫夏提塔吉克族乡',
  ],
};

const VILLAGE_WORDS = ['阿热勒', '兰干', '巴格', '喀拉', '托万', '英阿瓦提', '铁提尔', '吐格曼', '其兰巴格', '库木'];

const ESTATES = [
  '阳光',
  '金色',
  '锦绣',
  '幸福',
  '和谐',
  '翠苑',
  '丽景',
  '怡园',
  '康居',
  '书香',
  '世纪',
  '紫荆',
  '名都',
  '滨江',
  '水岸',
  '华府',
  '雅苑',
  '嘉园',
];
const ESTATE_SUFFIXES = ['小区', '花园', '家园', '新村', '公寓', '名苑'];

/** Universities by county, for students' collective households; others get a vocational college. */
const UNIVERSITIES: Record<string, string> = {
  '110108': '北京理工大学',
  '310104': '上海交通大学',
  '430104': '湖南大学',
  '540102': '西藏大学',
  '630102': '青海民族大学',
  '653101': '喀什大学',
  '659001': '石河子大学',
  '420102': '武汉职业技术学院',
  '510104': '四川大学',
  '610102': '西安交通大学',
  '320102': '南京大学',
  '330106': '浙江大学',
};

export function roadsOf(county: string): readonly string[] {
  return LOCAL_ROADS[county] ?? COMMON_ROADS;
}

export function townshipsOf(county: string): readonly string[] | undefined {
  return TOWNSHIPS[county];
}

export function universityOf(county: string): string {
  return UNIVERSITIES[county] ?? `${cityShortName(county)}职业技术学院`;
}

/** A street address inside a county: urban flat, or a village house in a rural county. */
export function residentialStreet(rng: Random, county: string): string {
  const townships = TOWNSHIPS[county];
  if (townships && rng.chance(0.7)) {
    return `${rng.pick(townships)}${rng.pick(VILLAGE_WORDS)}村${rng.int(1, 12)}组${rng.int(1, 120)}号`;
  }
  const road = rng.pick(roadsOf(county));
  const floor = rng.int(1, 18);
  const room = `${floor}${String(rng.int(1, 4)).padStart(2, '0')}`;
  if (rng.chance(0.5)) {
    return `${road}${rng.int(1, 399)}号${rng.int(1, 24)}栋${rng.int(1, 4)}单元${room}室`;
  }
  return `${road}${rng.int(1, 399)}号${rng.pick(ESTATES)}${rng.pick(ESTATE_SUFFIXES)}${rng.int(1, 30)}栋${room}室`;
}

/** A business address: road, number, and often a floor or room. */
export function businessStreet(rng: Random, county: string): string {
  const townships = TOWNSHIPS[county];
  if (townships && rng.chance(0.3)) {
    return `${rng.pick(townships)}${rng.pick(VILLAGE_WORDS)}村${rng.int(1, 200)}号`;
  }
  const base = `${rng.pick(roadsOf(county))}${rng.int(1, 999)}号`;
  const r = rng.next();
  if (r < 0.35) return base;
  if (r < 0.7) return `${base}${rng.int(1, 30)}楼${rng.int(1, 30)}${String(rng.int(1, 20)).padStart(2, '0')}室`;
  return `${base}${rng.pick(ESTATES)}大厦${rng.int(1, 3)}栋${rng.int(1, 25)}层`;
}

/** Police stations (派出所) of a county: a fixed list derived from its roads or townships. */
const stationCache = new Map<string, readonly string[]>();
export function policeStationsOf(county: string): readonly string[] {
  let stations = stationCache.get(county);
  if (!stations) {
    const local = TOWNSHIPS[county] ?? (county === '540102' ? ['八廓街', '吉日', '冲赛康', '扎细', '公德林', '两岛', '嘎玛贡桑', '金珠西路'] : null);
    const roads = roadsOf(county);
    // Counties sharing the common road pool get different stations: start at an offset from the code.
    const offset = LOCAL_ROADS[county] ? 0 : Number(county) % roads.length;
    const names = local ?? Array.from({ length: Math.min(8, roads.length) }, (_, i) => roads[(offset + i) % roads.length]);
    stations = names.map((name) => `${name}派出所`);
    stationCache.set(county, stations);
  }
  return stations;
}
