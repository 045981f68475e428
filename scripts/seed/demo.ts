/**
 * Fixed demonstration records, present in every seeded database whatever the
 * seed and the counts: persons and organisations whose stories are the
 * scenarios of the seed documents (户籍迁移 Hunan → Tibet, 养老保险转移接续,
 * 住房公积金异地转移接续, a Shache resident's qualification certificate,
 * credit-based approval, …). The README and the tests refer to them.
 *
 * They never collide with generated records: demo ID numbers use sequence
 * codes 901-926 (generated ones stay below 900), demo household numbers start
 * with 90 (generated ones with their province's code, 11-66), and demo
 * organisation codes start with 9 (generated ones with 1-8). Their careers reference demo organisations only,
 * so they do not depend on the number of generated organisations.
 */
import { parseDate, type Day } from './calendar.js';
import { householdAuthorityAt } from './authorities.js';
import type { Career, Job, JobExit, ResidentScheme } from './careers.js';
import { abnormalOperation, dishonestDebtor, revocationPenalty, taxpayerRatingA, type CreditDraft } from './credit.js';
import { creditCode, idNumber, type EntityKind, type Serials } from './identifiers.js';
import type { DrivingLicencePlan, QualificationPlan } from './licences.js';
import type { Sex } from './names.js';
import type { OrganisationDirectory, OrganisationRecord, OrganisationStatus } from './organisations.js';
import type { HouseholdPlan, Move, PersonPlan, RegistrationStatus } from './population.js';
import type { Random } from './random.js';

// ---------------------------------------------------------------- organisations

interface DemoOrganisationSpec {
  key: string;
  digits: string;
  kind: EntityKind;
  county: string;
  name: string;
  entityType: string;
  legalRepresentative: string;
  capitalWan: number | null;
  established: string;
  street: string;
  businessScope: string;
  status?: OrganisationStatus;
  statusChanged?: string;
  fundRatePercent: number;
  workInjuryBasisPoints: number;
  weight: number;
  payFactor?: number;
  amended?: { on: string; note: string };
  story: string;
}

const ORGANISATION_SPECS: readonly DemoOrganisationSpec[] = [
  {
    key: 'shenzhen',
    digits: '90000002',
    kind: 'ENTERPRISE',
    county: '440304',
    name: '深圳鹏程智联科技有限公司',
    entityType: '有限责任公司(自然人投资或控股)',
    legalRepresentative: '陈志远',
    capitalWan: 5000,
    established: '2009-03-02',
    street: '福华三路88号鹏程智联大厦18层',
    businessScope: '软件开发；信息系统集成服务；信息技术咨询服务；数据处理和存储支持服务。',
    fundRatePercent: 12,
    workInjuryBasisPoints: 20,
    weight: 0,
    payFactor: 1.5,
    amended: { on: '2018-05-10', note: '经营范围变更' },
    story:
      'Clean record and a big employer: about one in eight employee jobs in Guangdong, all insured, provident fund at 12 %; rated an A-level taxpayer for 2025.',
  },
  {
    key: 'xining-trading',
    digits: '90000004',
    kind: 'ENTERPRISE',
    county: '630102',
    name: '西宁高原红商贸有限公司',
    entityType: '有限责任公司(自然人独资)',
    legalRepresentative: '马俊',
    capitalWan: 100,
    established: '2016-04-06',
    street: '东关大街56号',
    businessScope: '日用百货、五金交电、建筑材料、农副产品的销售；货物进出口。',
    fundRatePercent: 0,
    workInjuryBasisPoints: 40,
    weight: 3,
    story: 'On the abnormal operation list (ACTIVE) since July 2025 for not publishing its 2024 annual report; still registered and trading.',
  },
  {
    key: 'changsha-media',
    digits: '90000005',
    kind: 'ENTERPRISE',
    county: '430102',
    name: '长沙湘韵文化传媒有限公司',
    entityType: '有限责任公司(自然人投资或控股)',
    legalRepresentative: '王建军',
    capitalWan: 300,
    established: '2015-10-20',
    street: '五一大道500号湘韵大厦15楼1508室',
    businessScope: '广告设计、代理、制作、发布；组织文化艺术交流活动；会议及展览服务。',
    status: 'REVOKED',
    statusChanged: '2024-06-18',
    fundRatePercent: 0,
    workInjuryBasisPoints: 20,
    weight: 2,
    story:
      'Business licence REVOKED (吊销) in June 2024 after a year unreachable at its address; the revocation penalty and the abnormal listing are public; its legal representative is the dishonest debtor 王建军.',
  },
  {
    key: 'lhasa-construction',
    digits: '90000001',
    kind: 'ENTERPRISE',
    county: '540102',
    name: '西藏雪域天成建设工程有限公司',
    entityType: '有限责任公司(自然人投资或控股)',
    legalRepresentative: '次仁旺堆',
    capitalWan: 2000,
    established: '2012-05-18',
    street: '金珠中路168号天成大厦3栋12层',
    businessScope: '房屋建筑工程施工；市政公用工程施工；建筑装饰装修工程设计与施工；建筑材料销售。',
    fundRatePercent: 12,
    workInjuryBasisPoints: 150,
    weight: 20,
    amended: { on: '2020-08-12', note: '注册资本变更' },
    story: 'Lhasa construction company that employs the demo persons 周志强 (moved from Hunan) and 扎西次仁; clean record.',
  },
  {
    key: 'shache-almond',
    digits: '90000006',
    kind: 'COOPERATIVE',
    county: '653125',
    name: '莎车县恰热克镇巴旦木种植农民专业合作社',
    entityType: '农民专业合作社',
    legalRepresentative: '艾买提·阿不都',
    capitalWan: 200,
    established: '2017-03-15',
    street: '恰热克镇阿热勒村5组66号',
    businessScope: '巴旦木种植；农产品初加工、储藏、销售；为成员提供农业生产资料购买和技术信息服务。',
    fundRatePercent: 0,
    workInjuryBasisPoints: 60,
    weight: 2,
    payFactor: 0.7,
    story: "Almond growers' cooperative in Shache (莎车县), a farmers' cooperative credit code (93…); employs 阿依古丽·买买提.",
  },
  {
    key: 'changsha-construction',
    digits: '90000003',
    kind: 'ENTERPRISE',
    county: '430104',
    name: '长沙麓山建筑工程有限公司',
    entityType: '有限责任公司(自然人投资或控股)',
    legalRepresentative: '刘建华',
    capitalWan: 1000,
    established: '2003-08-11',
    street: '麓山南路388号2楼201室',
    businessScope: '房屋建筑工程施工；市政公用工程施工；建筑装饰装修工程设计与施工；建筑材料销售。',
    fundRatePercent: 8,
    workInjuryBasisPoints: 150,
    weight: 10,
    story: 'Former employer of 周志强 and 张伟, whose pension enrolments here were transferred out to Tibet and Guangdong.',
  },
  {
    key: 'lanzhou-logistics',
    digits: '90000007',
    kind: 'ENTERPRISE',
    county: '620102',
    name: '兰州金城恒达物流有限公司',
    entityType: '有限责任公司(自然人投资或控股)',
    legalRepresentative: '张国庆',
    capitalWan: 500,
    established: '2008-06-23',
    street: '东岗西路210号',
    businessScope: '道路货物运输（不含危险货物）；普通货物仓储服务；国内货物运输代理。',
    fundRatePercent: 10,
    workInjuryBasisPoints: 120,
    weight: 5,
    story: 'Former employer of 马海燕 in Lanzhou.',
  },
  {
    key: 'xining-energy',
    digits: '90000008',
    kind: 'ENTERPRISE',
    county: '630102',
    name: '西宁夏都新能源科技有限公司',
    entityType: '有限责任公司(非自然人投资或控股的法人独资)',
    legalRepresentative: '李明',
    capitalWan: 3000,
    established: '2011-09-09',
    street: '昆仑东路99号',
    businessScope: '太阳能发电技术服务；风力发电技术服务；新能源原动设备销售。',
    fundRatePercent: 12,
    workInjuryBasisPoints: 70,
    weight: 8,
    payFactor: 1.2,
    story: 'Current employer of 马海燕 and her husband in Xining.',
  },
  {
    key: 'hangzhou-ecommerce',
    digits: '90000009',
    kind: 'ENTERPRISE',
    county: '330106',
    name: '杭州西子云帆电子商务有限公司',
    entityType: '有限责任公司(自然人投资或控股)',
    legalRepresentative: '沈佳怡',
    capitalWan: 1000,
    established: '2001-05-16',
    street: '文三路478号云帆大厦9楼',
    businessScope: '网络技术服务；互联网销售（除销售需要许可的商品）；货物进出口。',
    fundRatePercent: 10,
    workInjuryBasisPoints: 20,
    weight: 6,
    payFactor: 1.2,
    story: 'First employer of 张伟 (2002-2009).',
  },
];

/** Share of its province's employee jobs that the big demo employer takes. */
export const BIG_EMPLOYER_SHARE = 0.12;

function organisationRecord(spec: DemoOrganisationSpec): OrganisationRecord {
  const established = parseDate(spec.established);
  return {
    creditCode: creditCode(spec.kind, spec.county, spec.digits),
    name: spec.name,
    kind: spec.kind,
    entityType: spec.entityType,
    legalRepresentative: spec.legalRepresentative,
    capitalWanFen: spec.capitalWan === null ? null : spec.capitalWan * 100,
    established,
    county: spec.county,
    street: spec.street,
    businessScope: spec.businessScope,
    status: spec.status ?? 'ACTIVE',
    statusChanged: spec.statusChanged ? parseDate(spec.statusChanged) : null,
    termEnds: null,
    employerRegistered: established + 20,
    weight: spec.weight,
    fundRatePercent: spec.fundRatePercent,
    workInjuryBasisPoints: spec.workInjuryBasisPoints,
    arrearsMonths: 0,
    payFactor: spec.payFactor ?? 1,
    amended: spec.amended ? { on: parseDate(spec.amended.on), note: spec.amended.note } : null,
  };
}

const creditCodeOf = (key: string): string => {
  const spec = ORGANISATION_SPECS.find((s) => s.key === key)!;
  return creditCode(spec.kind, spec.county, spec.digits);
};

/** The demo employer that gets a fixed share of its province's jobs. */
export const BIG_EMPLOYER_CREDIT_CODE = creditCodeOf('shenzhen');

/** The demo organisations, in the order they are written. */
export function demoOrganisations(): OrganisationRecord[] {
  return ORGANISATION_SPECS.map(organisationRecord);
}

export function demoOrganisationKey(creditCodeValue: string): string | undefined {
  return ORGANISATION_SPECS.find((spec) => creditCode(spec.kind, spec.county, spec.digits) === creditCodeValue)?.key;
}

/** Credit records of a demo organisation. */
export function demoOrganisationCredit(serials: Serials, organisation: OrganisationRecord): CreditDraft[] {
  switch (demoOrganisationKey(organisation.creditCode)) {
    case 'shenzhen':
      return [taxpayerRatingA(serials, organisation, 2025)];
    case 'xining-trading':
      return [abnormalOperation(serials, organisation, parseDate('2025-07-08'), 'ANNUAL_REPORT', 'ACTIVE')];
    case 'changsha-media':
      return [
        abnormalOperation(serials, organisation, parseDate('2023-08-15'), 'UNREACHABLE', 'ACTIVE'),
        revocationPenalty(serials, organisation, parseDate('2024-06-18')),
      ];
    default:
      return [];
  }
}

export const DEMO_ORGANISATIONS: readonly { creditCode: string; name: string; story: string }[] = ORGANISATION_SPECS.map((spec) => ({
  creditCode: creditCode(spec.kind, spec.county, spec.digits),
  name: spec.name,
  story: spec.story,
}));

// ---------------------------------------------------------------- persons

/** Everything written for one person besides the register entry (planned at random, or fixed for demo persons). */
export interface PersonRecords {
  career: Career;
  driving: DrivingLicencePlan | null;
  qualification: QualificationPlan | null;
  credit: CreditDraft[];
}

export interface DemoHousehold {
  household: HouseholdPlan;
  /** Aligned with household.members. */
  records: PersonRecords[];
}

interface MemberSpec {
  seq: number;
  name: string;
  sex: Sex;
  birth: string;
  birthCounty: string;
  ethnicity: string;
  relation: string;
  registeredOn: string;
  status?: RegistrationStatus;
  death?: string;
  moves?: MoveSpec[];
  career?: (org: (key: string) => OrganisationRecord) => Career;
  driving?: { firstIssued: string; vehicleClass: string };
  qualification?: { occupation: string; level: number; issued: string };
  credit?: (subject: { id: string; name: string; county: string }, serials: Serials, rng: Random) => CreditDraft[];
  story?: string;
}

interface MoveSpec {
  from: string;
  to: string;
  outOn: string;
  inOn: string | null;
  reason: string;
  fromStation: number;
}

interface HouseholdSpec {
  number: string;
  county: string;
  street: string;
  station: number;
  established: string;
  members: MemberSpec[];
}

const job = (
  employer: OrganisationRecord,
  start: string,
  end: string | null,
  exit: JobExit,
  baseYuan: number,
  fund = true,
  fundFate?: 'TRANSFERRED_OUT' | 'SEALED',
): Job => ({
  employer,
  start: parseDate(start),
  end: end === null ? null : parseDate(end),
  exit,
  baseFen: baseYuan * 100,
  providentFund: fund,
  fundFate,
});

const resident = (county: string, pensionFrom: string | null, grade: number, medicalFrom: string | null): ResidentScheme => ({
  county,
  pensionFrom: pensionFrom === null ? null : parseDate(pensionFrom),
  pensionGradeYuan: grade,
  medicalFrom: medicalFrom === null ? null : parseDate(medicalFrom),
});

const HOUSEHOLDS: readonly HouseholdSpec[] = [
  {
    // 户籍迁移 Hunan → Tibet, 养老保险转移接续, 住房公积金异地转移接续.
    number: '900000001',
    county: '540102',
    street: '北京中路28号雪域花园3栋2单元502室',
    station: 0,
    established: '2019-07-09',
    members: [
      {
        seq: 911,
        name: '周志强',
        sex: 'MALE',
        birth: '1985-03-12',
        birthCounty: '430102',
        ethnicity: '汉族',
        relation: '户主',
        registeredOn: '2019-07-09',
        moves: [{ from: '430102', to: '540102', outOn: '2019-07-02', inOn: '2019-07-09', reason: '人才引进', fromStation: 0 }],
        career: (org) => ({
          jobs: [
            job(org('changsha-construction'), '2007-07-01', '2019-06-20', 'CHANGED', 9800, true, 'TRANSFERRED_OUT'),
            job(org('lhasa-construction'), '2019-07-15', null, 'ONGOING', 16000),
          ],
          resident: null,
        }),
        driving: { firstIssued: '2008-09-10', vehicleClass: 'C1' },
        story:
          'Born and first registered in Changsha (芙蓉区); moved his registration to Lhasa 城关区 in 2019 (人才引进). Pension, medical and unemployment enrolments in Hunan are TRANSFERRED_OUT and he contributes in Lhasa; his Changsha provident-fund account was transferred to the Lhasa centre; his driving licence, first issued in Hunan, was renewed in Tibet.',
      },
      {
        seq: 912,
        name: '李娟',
        sex: 'FEMALE',
        birth: '1987-06-20',
        birthCounty: '430104',
        ethnicity: '汉族',
        relation: '配偶',
        registeredOn: '2020-03-16',
        moves: [{ from: '430104', to: '540102', outOn: '2020-03-10', inOn: '2020-03-16', reason: '投靠配偶', fromStation: 2 }],
        career: (org) => ({
          jobs: [job(org('changsha-construction'), '2010-09-01', '2020-02-28', 'UNEMPLOYED', 7600)],
          resident: resident('540102', null, 0, '2020-04-01'),
        }),
      },
      {
        seq: 914,
        name: '周欣怡',
        sex: 'FEMALE',
        birth: '2021-02-14',
        birthCounty: '540102',
        ethnicity: '汉族',
        relation: '女',
        registeredOn: '2021-03-01',
        career: () => ({ jobs: [], resident: resident('540102', null, 0, '2021-03-01') }),
      },
    ],
  },
  {
    // A Shache family: qualification certificate, a son gone to university in Shanghai.
    number: '900000002',
    county: '653125',
    street: '恰热克镇阿热勒村3组18号',
    station: 1,
    established: '1990-04-12',
    members: [
      {
        seq: 901,
        name: '买买提·吐尔逊',
        sex: 'MALE',
        birth: '1966-02-11',
        birthCounty: '653125',
        ethnicity: '维吾尔族',
        relation: '户主',
        registeredOn: '1990-04-12',
        career: () => ({ jobs: [], resident: resident('653125', '2012-03-01', 300, '2019-01-15') }),
      },
      {
        seq: 904,
        name: '热依拉·艾力',
        sex: 'FEMALE',
        birth: '1968-09-03',
        birthCounty: '653125',
        ethnicity: '维吾尔族',
        relation: '配偶',
        registeredOn: '1990-04-12',
        career: () => ({ jobs: [], resident: resident('653125', '2012-03-01', 300, '2019-01-15') }),
      },
      {
        seq: 902,
        name: '阿依古丽·买买提',
        sex: 'FEMALE',
        birth: '1994-05-20',
        birthCounty: '653125',
        ethnicity: '维吾尔族',
        relation: '女',
        registeredOn: '1994-06-10',
        career: (org) => ({ jobs: [job(org('shache-almond'), '2019-04-01', null, 'ONGOING', 5200, false)], resident: null }),
        qualification: { occupation: '中式面点师', level: 4, issued: '2021-06-18' },
        story:
          "Uyghur woman registered in 莎车县 (653125) in her parents' household; holds a 中式面点师 (Chinese pastry cook) level-4 professional qualification certificate issued by the Xinjiang human-resources department; insured as an employee of the Shache almond cooperative.",
      },
      {
        seq: 905,
        name: '艾力·买买提',
        sex: 'MALE',
        birth: '2008-03-15',
        birthCounty: '653125',
        ethnicity: '维吾尔族',
        relation: '子',
        registeredOn: '2008-04-02',
        status: 'MOVED_OUT',
        moves: [{ from: '653125', to: '310104', outOn: '2026-08-25', inOn: null, reason: '大中专院校录取', fromStation: 1 }],
        career: () => ({ jobs: [], resident: resident('653125', null, 0, '2019-01-15') }),
        story: 'Admitted to a Shanghai university in 2026: registration MOVED_OUT of the Shache household, move-in at 徐汇区 still pending.',
      },
    ],
  },
  {
    // 住房公积金异地转移接续 not yet done: a sealed Lanzhou account beside an active Xining one.
    number: '900000003',
    county: '630102',
    street: '八一路86号夏都家园5栋1单元301室',
    station: 2,
    established: '2017-12-20',
    members: [
      {
        seq: 907,
        name: '韩文杰',
        sex: 'MALE',
        birth: '1986-04-17',
        birthCounty: '630102',
        ethnicity: '回族',
        relation: '户主',
        registeredOn: '2017-12-20',
        career: (org) => ({ jobs: [job(org('xining-energy'), '2012-03-01', null, 'ONGOING', 9500)], resident: null }),
      },
      {
        seq: 906,
        name: '马海燕',
        sex: 'FEMALE',
        birth: '1988-11-02',
        birthCounty: '630102',
        ethnicity: '回族',
        relation: '配偶',
        registeredOn: '2017-12-28',
        career: (org) => ({
          jobs: [
            job(org('lanzhou-logistics'), '2011-07-01', '2017-09-30', 'CHANGED', 7200, true, 'SEALED'),
            job(org('xining-energy'), '2017-11-01', null, 'ONGOING', 10200),
          ],
          resident: null,
        }),
        driving: { firstIssued: '2012-10-08', vehicleClass: 'C2' },
        story:
          'Hui woman registered in Xining 城东区 (630102) who worked in Lanzhou 2011-2017: her Lanzhou provident-fund account is still SEALED (never transferred) beside an ACTIVE account at the Xining centre; her Gansu pension enrolment was TRANSFERRED_OUT to Qinghai.',
      },
      {
        seq: 909,
        name: '韩宇航',
        sex: 'MALE',
        birth: '2018-10-09',
        birthCounty: '630102',
        ethnicity: '回族',
        relation: '子',
        registeredOn: '2018-10-30',
        career: () => ({ jobs: [], resident: resident('630102', null, 0, '2019-01-10') }),
      },
    ],
  },
  {
    // A worker who contributed in three provinces (Zhejiang, Hunan, Guangdong) while registered in Henan.
    number: '900000004',
    county: '410102',
    street: '建设路122号锦绣花园2栋3单元602室',
    station: 3,
    established: '2006-05-18',
    members: [
      {
        seq: 913,
        name: '张伟',
        sex: 'MALE',
        birth: '1980-08-08',
        birthCounty: '410102',
        ethnicity: '汉族',
        relation: '户主',
        registeredOn: '2006-05-18',
        career: (org) => ({
          jobs: [
            job(org('hangzhou-ecommerce'), '2002-03-01', '2009-12-31', 'CHANGED', 6800, true, 'TRANSFERRED_OUT'),
            job(org('changsha-construction'), '2010-03-01', '2016-05-31', 'CHANGED', 8200, true, 'TRANSFERRED_OUT'),
            job(org('shenzhen'), '2016-07-01', null, 'ONGOING', 21000),
          ],
          resident: null,
        }),
        driving: { firstIssued: '2005-04-20', vehicleClass: 'C1' },
        story:
          'Registered in Zhengzhou (中原区) all his life but worked in Hangzhou, Changsha and Shenzhen: pension contributions in three provinces, two enrolments TRANSFERRED_OUT, provident-fund accounts transferred twice; contribution months add up across provinces.',
      },
      {
        seq: 916,
        name: '刘芳',
        sex: 'FEMALE',
        birth: '1982-12-03',
        birthCounty: '410102',
        ethnicity: '汉族',
        relation: '配偶',
        registeredOn: '2007-01-15',
        career: () => ({ jobs: [], resident: resident('410102', '2012-05-01', 600, '2019-01-20') }),
      },
      {
        seq: 919,
        name: '张浩然',
        sex: 'MALE',
        birth: '2008-07-19',
        birthCounty: '410102',
        ethnicity: '汉族',
        relation: '子',
        registeredOn: '2008-08-05',
        career: () => ({ jobs: [], resident: resident('410102', null, 0, '2019-01-20') }),
      },
    ],
  },
  {
    // Credit-based approval: an ACTIVE dishonest judgment debtor.
    number: '900000005',
    county: '430104',
    street: '枫林一路266号麓山名苑8栋1单元1102室',
    station: 1,
    established: '1998-10-08',
    members: [
      {
        seq: 915,
        name: '王建军',
        sex: 'MALE',
        birth: '1972-01-25',
        birthCounty: '430104',
        ethnicity: '汉族',
        relation: '户主',
        registeredOn: '1998-10-08',
        career: () => ({ jobs: [], resident: resident('430104', '2012-01-15', 1200, '2019-01-05') }),
        driving: { firstIssued: '1996-11-02', vehicleClass: 'C1' },
        credit: (subject, serials, rng) => [
          dishonestDebtor(
            rng,
            serials,
            { kind: 'PERSON', ...subject },
            {
              decidedOn: parseDate('2025-03-18'),
              amountFen: 86_000_000,
              status: 'ACTIVE',
              ground: '有履行能力而拒不履行生效法律文书确定义务',
              publishedUntil: parseDate('2027-03-18'),
            },
          ),
        ],
        story:
          'Listed by the 岳麓区 court as a dishonest judgment debtor (ACTIVE, until 2027-03-18) for an unpaid judgment of 860,000 yuan; legal representative of the revoked 长沙湘韵文化传媒有限公司.',
      },
      {
        seq: 918,
        name: '陈丽',
        sex: 'FEMALE',
        birth: '1974-05-06',
        birthCounty: '430104',
        ethnicity: '汉族',
        relation: '配偶',
        registeredOn: '1999-02-01',
        career: () => ({ jobs: [], resident: resident('430104', '2012-01-15', 600, '2019-01-05') }),
      },
      {
        seq: 920,
        name: '王思涵',
        sex: 'FEMALE',
        birth: '2001-09-27',
        birthCounty: '430104',
        ethnicity: '汉族',
        relation: '女',
        registeredOn: '2001-10-15',
        career: (org) => ({ jobs: [job(org('shenzhen'), '2023-07-01', null, 'ONGOING', 12000)], resident: null }),
      },
    ],
  },
  {
    // A Tibetan household: repaired credit, a deceased member, a son gone to study in Hunan.
    number: '900000006',
    county: '540102',
    street: '林廓北路15号4栋2单元201室',
    station: 1,
    established: '1975-06-01',
    members: [
      {
        seq: 921,
        name: '扎西次仁',
        sex: 'MALE',
        birth: '1979-10-01',
        birthCounty: '540102',
        ethnicity: '藏族',
        relation: '户主',
        registeredOn: '1979-10-20',
        career: (org) => ({ jobs: [job(org('lhasa-construction'), '2013-05-01', null, 'ONGOING', 12500)], resident: null }),
        driving: { firstIssued: '2003-06-15', vehicleClass: 'B2' },
        credit: (subject, serials, rng) => [
          dishonestDebtor(
            rng,
            serials,
            { kind: 'PERSON', ...subject },
            {
              decidedOn: parseDate('2021-09-10'),
              amountFen: 15_000_000,
              status: 'REPAIRED',
              ground: '有履行能力而拒不履行生效法律文书确定义务',
              publishedUntil: parseDate('2023-09-10'),
            },
          ),
        ],
        story:
          'Tibetan head of a five-member household in Lhasa 城关区; listed as a dishonest judgment debtor in 2021, credit REPAIRED after he paid; his father died in 2023 (CANCELLED) and his son moved out to study in Hunan.',
      },
      {
        seq: 922,
        name: '央金',
        sex: 'FEMALE',
        birth: '1981-03-08',
        birthCounty: '540102',
        ethnicity: '藏族',
        relation: '配偶',
        registeredOn: '2004-05-01',
        career: () => ({ jobs: [], resident: resident('540102', '2012-03-01', 600, '2019-01-08') }),
      },
      {
        seq: 923,
        name: '尼玛顿珠',
        sex: 'MALE',
        birth: '2008-06-12',
        birthCounty: '540102',
        ethnicity: '藏族',
        relation: '子',
        registeredOn: '2008-07-01',
        status: 'MOVED_OUT',
        moves: [{ from: '540102', to: '430104', outOn: '2026-08-28', inOn: null, reason: '大中专院校录取', fromStation: 1 }],
        career: () => ({ jobs: [], resident: resident('540102', null, 0, '2019-01-08') }),
      },
      {
        seq: 924,
        name: '格桑卓玛',
        sex: 'FEMALE',
        birth: '2012-01-19',
        birthCounty: '540102',
        ethnicity: '藏族',
        relation: '女',
        registeredOn: '2012-02-06',
        career: () => ({ jobs: [], resident: resident('540102', null, 0, '2019-01-08') }),
      },
      {
        seq: 926,
        name: '德吉',
        sex: 'FEMALE',
        birth: '1950-04-03',
        birthCounty: '540102',
        ethnicity: '藏族',
        relation: '母',
        registeredOn: '1975-06-01',
        career: () => ({ jobs: [], resident: resident('540102', null, 0, '2019-01-08') }),
      },
      {
        seq: 925,
        name: '次仁多吉',
        sex: 'MALE',
        birth: '1946-08-15',
        birthCounty: '540102',
        ethnicity: '藏族',
        relation: '父',
        registeredOn: '1975-06-01',
        status: 'CANCELLED',
        death: '2023-12-05',
        career: () => ({ jobs: [], resident: resident('540102', null, 0, '2019-01-08') }),
        driving: { firstIssued: '1992-05-20', vehicleClass: 'C1' },
        story:
          "Father of 扎西次仁, died 2023-12-05: registration CANCELLED (no household any more), residents' medical insurance TERMINATED and driving licence CANCELLED on his death.",
      },
    ],
  },
];

function demoMove(spec: MoveSpec, household: HouseholdPlan): Move {
  const outAuthority = spec.from === household.county ? household.authority : householdAuthorityAt(spec.from, spec.fromStation);
  return {
    from: spec.from,
    to: spec.to,
    outOn: parseDate(spec.outOn),
    inOn: spec.inOn === null ? null : parseDate(spec.inOn),
    reason: spec.reason,
    outAuthority,
    inAuthority: spec.inOn === null ? null : household.authority,
  };
}

function demoIdNumber(member: MemberSpec): string {
  return idNumber(member.birthCounty, parseDate(member.birth), member.seq);
}

/** The demo households with everything their members hold, ready to write. */
export function demoHouseholds(organisations: OrganisationDirectory, serials: Serials, rng: Random): DemoHousehold[] {
  const org = (key: string): OrganisationRecord => organisations.get(creditCodeOf(key));
  return HOUSEHOLDS.map((spec) => {
    const household: HouseholdPlan = {
      number: spec.number,
      type: 'FAMILY',
      county: spec.county,
      street: spec.street,
      authority: householdAuthorityAt(spec.county, spec.station),
      established: parseDate(spec.established),
      members: [],
    };
    const records: PersonRecords[] = [];
    let order = 0;
    for (const member of spec.members) {
      const status = member.status ?? 'ACTIVE';
      const cancelled = status === 'CANCELLED';
      const death: Day | null = member.death ? parseDate(member.death) : null;
      const person: PersonPlan = {
        idNumber: demoIdNumber(member),
        name: member.name,
        sex: member.sex,
        birth: parseDate(member.birth),
        ethnicity: member.ethnicity,
        birthCounty: member.birthCounty,
        householdNumber: cancelled ? null : spec.number,
        memberOrder: cancelled ? 0 : order++,
        relation: cancelled ? null : member.relation,
        registeredOn: parseDate(member.registeredOn),
        status,
        county: spec.county,
        death,
        moves: [],
      };
      person.moves = (member.moves ?? []).map((move) => demoMove(move, household));
      household.members.push(person);
      records.push({
        career: member.career ? member.career(org) : { jobs: [], resident: null },
        driving: member.driving
          ? { firstIssued: parseDate(member.driving.firstIssued), vehicleClass: member.driving.vehicleClass, lapsed: false, revoked: null }
          : null,
        qualification: member.qualification
          ? {
              occupation: member.qualification.occupation,
              level: member.qualification.level,
              issued: parseDate(member.qualification.issued),
              revoked: null,
            }
          : null,
        credit: member.credit ? member.credit({ id: person.idNumber, name: person.name, county: spec.county }, serials, rng) : [],
      });
    }
    return { household, records };
  });
}

export const DEMO_PERSONS: readonly { idNumber: string; name: string; story: string }[] = HOUSEHOLDS.flatMap((household) =>
  household.members.filter((member) => member.story).map((member) => ({ idNumber: demoIdNumber(member), name: member.name, story: member.story! })),
);

/** Number of person rows the demo households write (members and deceased former members). */
export const DEMO_PERSON_ROWS = HOUSEHOLDS.reduce((sum, household) => sum + household.members.length, 0);
export const DEMO_ORGANISATION_ROWS = ORGANISATION_SPECS.length;
