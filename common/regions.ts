/**
 * GB/T 2260 administrative divisions: the 31 province-level divisions and the
 * Xinjiang Production and Construction Corps, with the prefectures and
 * counties the synthetic data uses. A code missing from this list is still a
 * valid code (ID numbers keep historical codes): it resolves with a null name.
 */

export interface Province {
  code: string;
  name: string;
  /** Short name used in document numbers and plates, e.g. 湘 for 湖南. */
  abbreviation: string;
  /** Resident population in millions (2020 census, rounded); weights the synthetic data. */
  populationMillions: number;
}

export const PROVINCES: readonly Province[] = [
  { code: '110000', name: '北京市', abbreviation: '京', populationMillions: 21.9 },
  { code: '120000', name: '天津市', abbreviation: '津', populationMillions: 13.9 },
  { code: '130000', name: '河北省', abbreviation: '冀', populationMillions: 74.6 },
  { code: '140000', name: '山西省', abbreviation: '晋', populationMillions: 34.9 },
  { code: '150000', name: '内蒙古自治区', abbreviation: '蒙', populationMillions: 24.0 },
  { code: '210000', name: '辽宁省', abbreviation: '辽', populationMillions: 42.6 },
  { code: '220000', name: '吉林省', abbreviation: '吉', populationMillions: 24.1 },
  { code: '230000', name: '黑龙江省', abbreviation: '黑', populationMillions: 31.9 },
  { code: '310000', name: '上海市', abbreviation: '沪', populationMillions: 24.9 },
  { code: '320000', name: '江苏省', abbreviation: '苏', populationMillions: 84.7 },
  { code: '330000', name: '浙江省', abbreviation: '浙', populationMillions: 64.6 },
  { code: '340000', name: '安徽省', abbreviation: '皖', populationMillions: 61.0 },
  { code: '350000', name: '福建省', abbreviation: '闽', populationMillions: 41.5 },
  { code: '360000', name: '江西省', abbreviation: '赣', populationMillions: 45.2 },
  { code: '370000', name: '山东省', abbreviation: '鲁', populationMillions: 101.5 },
  { code: '410000', name: '河南省', abbreviation: '豫', populationMillions: 99.4 },
  { code: '420000', name: '湖北省', abbreviation: '鄂', populationMillions: 57.8 },
  { code: '430000', name: '湖南省', abbreviation: '湘', populationMillions: 66.4 },
  { code: '440000', name: '广东省', abbreviation: '粤', populationMillions: 126.0 },
  { code: '450000', name: '广西壮族自治区', abbreviation: '桂', populationMillions: 50.1 },
  { code: '460000', name: '海南省', abbreviation: '琼', populationMillions: 10.1 },
  { code: '500000', name: '重庆市', abbreviation: '渝', populationMillions: 32.1 },
  { code: '510000', name: '四川省', abbreviation: '川', populationMillions: 83.7 },
  { code: '520000', name: '贵州省', abbreviation: '黔', populationMillions: 38.6 },
  { code: '530000', name: '云南省', abbreviation: '云', populationMillions: 47.2 },
  { code: '540000', name: '西藏自治区', abbreviation: '藏', populationMillions: 3.6 },
  { code: '610000', name: '陕西省', abbreviation: '陕', populationMillions: 39.5 },
  { code: '620000', name: '甘肃省', abbreviation: '甘', populationMillions: 25.0 },
  { code: '630000', name: '青海省', abbreviation: '青', populationMillions: 5.9 },
  { code: '640000', name: '宁夏回族自治区', abbreviation: '宁', populationMillions: 7.2 },
  { code: '650000', name: '新疆维吾尔自治区', abbreviation: '新', populationMillions: 25.9 },
  { code: '660000', name: '新疆生产建设兵团', abbreviation: '兵', populationMillions: 3.3 },
];

/** Prefecture-level divisions (地级), by code. */
const PREFECTURES: Record<string, string> = {
  '130100': '石家庄市',
  '130200': '唐山市',
  '140100': '太原市',
  '150100': '呼和浩特市',
  '210100': '沈阳市',
  '210200': '大连市',
  '220100': '长春市',
  '230100': '哈尔滨市',
  '320100': '南京市',
  '320500': '苏州市',
  '330100': '杭州市',
  '340100': '合肥市',
  '350100': '福州市',
  '350200': '厦门市',
  '360100': '南昌市',
  '370100': '济南市',
  '370200': '青岛市',
  '410100': '郑州市',
  '420100': '武汉市',
  '430100': '长沙市',
  '440100': '广州市',
  '440300': '深圳市',
  '450100': '南宁市',
  '460100': '海口市',
  '510100': '成都市',
  '520100': '贵阳市',
  '530100': '昆明市',
  '540100': '拉萨市',
  '540500': '山南市',
  '610100': '西安市',
  '620100': '兰州市',
  '630100': '西宁市',
  '640100': '银川市',
  '650100': '乌鲁木齐市',
  '653100': '喀什地区',
};

/**
 * County-level divisions (县级) used as places of registration, with the
 * province they belong to. 石河子市 is administered by the Corps (第八师).
 */
const COUNTIES: Record<string, { name: string; province: string }> = {
  '110101': { name: '东城区', province: '110000' },
  '110105': { name: '朝阳区', province: '110000' },
  '110108': { name: '海淀区', province: '110000' },
  '120101': { name: '和平区', province: '120000' },
  '120104': { name: '南开区', province: '120000' },
  '130102': { name: '长安区', province: '130000' },
  '130203': { name: '路北区', province: '130000' },
  '140105': { name: '小店区', province: '140000' },
  '150102': { name: '新城区', province: '150000' },
  '210102': { name: '和平区', province: '210000' },
  '210202': { name: '中山区', province: '210000' },
  '220102': { name: '南关区', province: '220000' },
  '230102': { name: '道里区', province: '230000' },
  '310101': { name: '黄浦区', province: '310000' },
  '310104': { name: '徐汇区', province: '310000' },
  '310115': { name: '浦东新区', province: '310000' },
  '320102': { name: '玄武区', province: '320000' },
  '320505': { name: '虎丘区', province: '320000' },
  '330102': { name: '上城区', province: '330000' },
  '330106': { name: '西湖区', province: '330000' },
  '340102': { name: '瑶海区', province: '340000' },
  '350102': { name: '鼓楼区', province: '350000' },
  '350203': { name: '思明区', province: '350000' },
  '360102': { name: '东湖区', province: '360000' },
  '370102': { name: '历下区', province: '370000' },
  '370202': { name: '市南区', province: '370000' },
  '410102': { name: '中原区', province: '410000' },
  '420102': { name: '江岸区', province: '420000' },
  '430102': { name: '芙蓉区', province: '430000' },
  '430104': { name: '岳麓区', province: '430000' },
  '440103': { name: '荔湾区', province: '440000' },
  '440304': { name: '福田区', province: '440000' },
  '450102': { name: '兴宁区', province: '450000' },
  '460105': { name: '秀英区', province: '460000' },
  '500103': { name: '渝中区', province: '500000' },
  '510104': { name: '锦江区', province: '510000' },
  '520102': { name: '南明区', province: '520000' },
  '530102': { name: '五华区', province: '530000' },
  '540102': { name: '城关区', province: '540000' },
  '540502': { name: '乃东区', province: '540000' },
  '610102': { name: '新城区', province: '610000' },
  '620102': { name: '城关区', province: '620000' },
  '630102': { name: '城东区', province: '630000' },
  '640104': { name: '兴庆区', province: '640000' },
  '650102': { name: '天山区', province: '650000' },
  '653101': { name: '喀什市', province: '650000' },
  '653125': { name: '莎车县', province: '650000' },
  '659001': { name: '石河子市', province: '660000' },
};

/** A division resolved for output; names are null for codes not in the list. */
export interface RegionInfo {
  code: string;
  name: string | null;
  fullName: string | null;
  provinceCode: string;
  provinceName: string | null;
}

const provinceByCode = new Map(PROVINCES.map((p) => [p.code, p]));

/** Province-level code of a division: its own mapping for Corps counties, else the first two digits. */
export function provinceCodeOf(code: string): string {
  return COUNTIES[code]?.province ?? `${code.slice(0, 2)}0000`;
}

export function provinceOf(code: string): Province | undefined {
  return provinceByCode.get(provinceCodeOf(code));
}

function describe(code: string): RegionInfo {
  const provinceCode = provinceCodeOf(code);
  const province = provinceByCode.get(provinceCode);
  const provinceName = province?.name ?? null;
  if (code === provinceCode) {
    return { code, name: provinceName, fullName: provinceName, provinceCode, provinceName };
  }
  const county = COUNTIES[code];
  const prefecture = PREFECTURES[`${code.slice(0, 4)}00`];
  if (PREFECTURES[code]) {
    const name = PREFECTURES[code];
    return { code, name, fullName: provinceName ? provinceName + name : null, provinceCode, provinceName };
  }
  if (county) {
    // The Corps city sits under the Corps, not under a prefecture of Xinjiang.
    const middle = county.province === '660000' ? '' : (prefecture ?? '');
    return { code, name: county.name, fullName: `${provinceName ?? ''}${middle}${county.name}`, provinceCode, provinceName };
  }
  return { code, name: null, fullName: null, provinceCode, provinceName };
}

const regionCache = new Map<string, RegionInfo>();

/** Resolves a six-digit division code; results are immutable and cached. */
export function regionOf(code: string): RegionInfo {
  let info = regionCache.get(code);
  if (!info) {
    info = Object.freeze(describe(code));
    regionCache.set(code, info);
  }
  return info;
}

/** County-level codes of one province, for the synthetic data. */
export function countiesOf(provinceCode: string): string[] {
  return Object.entries(COUNTIES)
    .filter(([, c]) => c.province === provinceCode)
    .map(([code]) => code);
}

/** Name of the prefecture (or municipality) a county belongs to, for authority names. */
export function cityNameOf(countyCode: string): string {
  const county = COUNTIES[countyCode];
  if (county?.province === '660000') return county.name;
  return PREFECTURES[`${countyCode.slice(0, 4)}00`] ?? provinceOf(countyCode)?.name ?? '';
}
