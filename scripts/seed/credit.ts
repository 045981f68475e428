/**
 * Public credit records (信用记录) of persons and organisations, as the credit
 * platforms publish them: dishonest judgment debtors listed by courts,
 * administrative penalties, the abnormal operation list (organisations only)
 * and commendations.
 *
 * About 3 % of adults and 20 % of organisations have a record. Statuses
 * follow the publication rules: a penalty is published for one year (简易)
 * or three, then EXPIRED; anyone may apply for credit repair (REPAIRED) once
 * the obligation is fulfilled; a dishonest-debtor listing normally runs two
 * years; an organisation leaves the abnormal list when it files the missing
 * report. Revoked organisations carry the revocation penalty itself and the
 * abnormal listing that preceded it; organisations in arrears with social
 * insurance carry the order to pay.
 *
 * Document numbers follow the real patterns: (2024)藏0102执123号 for a basic
 * court, (2024)藏01执12号 for an intermediate one, 拉市监处罚〔2025〕17号 for
 * a market regulator, 拉税稽罚〔2024〕5号 for a tax bureau.
 */
import { cityNameOf } from '../../common/regions.js';
import { TODAY, addYears, ageOn, dayOf, yearOf, isoDate, type Day } from './calendar.js';
import {
  basicCourt,
  cityGovernment,
  cityMarketRegulator,
  ecologyBureau,
  intermediateCourt,
  marketRegulatorOn,
  marketRegulatorShortOn,
  provincialHealthCommission,
  provincialTaxBureau,
  taxInspectionBureau,
  type Authority,
} from './authorities.js';
import type { Serials } from './identifiers.js';
import type { OrganisationRecord } from './organisations.js';
import type { PersonPlan } from './population.js';
import { cityAbbreviation, cityRegionOf, provinceAbbreviation } from './places.js';
import { WeightedList, type Random } from './random.js';
import type { RowSink } from './row-sink.js';

export type CreditCategory = 'DISHONEST_JUDGMENT_DEBTOR' | 'ADMINISTRATIVE_PENALTY' | 'ABNORMAL_OPERATION' | 'COMMENDATION';
export type CreditStatus = 'ACTIVE' | 'REPAIRED' | 'EXPIRED' | 'REVOKED';

/** A credit record before it gets its identifier. */
export interface CreditDraft {
  category: CreditCategory;
  status: CreditStatus;
  documentNumber: string;
  title: string;
  details: string;
  authority: Authority;
  decidedOn: Day;
  publishedUntil: Day | null;
  amountFen: number | null;
}

/** A subject of credit records: a person or an organisation, with its county and name. */
export interface CreditSubject {
  kind: 'PERSON' | 'ORGANISATION';
  id: string;
  name: string;
  county: string;
}

const yuan = (fen: number): string => (fen / 100).toFixed(2);

/** Status of a record published until `until`: EXPIRED once over, else ACTIVE or, sometimes, REPAIRED early. */
function publicationStatus(rng: Random, decided: Day, until: Day | null, repairShare: number): CreditStatus {
  if (until !== null && until < TODAY) return 'EXPIRED';
  if (TODAY - decided > 365 && rng.chance(repairShare)) return 'REPAIRED';
  return 'ACTIVE';
}

const DISHONEST_GROUNDS = new WeightedList([
  ['有履行能力而拒不履行生效法律文书确定义务', 60],
  ['违反财产报告制度', 15],
  ['违反限制消费令', 10],
  ['以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行', 8],
  ['无正当理由拒不履行执行和解协议', 7],
] as const);

export interface DishonestDebtorOptions {
  decidedOn: Day;
  amountFen: number;
  status: CreditStatus;
  intermediate?: boolean;
  /** Listing term end; null for an open-ended listing. */
  publishedUntil?: Day | null;
  ground?: string;
}

/** A court's listing as dishonest judgment debtor (失信被执行人). */
export function dishonestDebtor(rng: Random, serials: Serials, subject: CreditSubject, options: DishonestDebtorOptions): CreditDraft {
  const year = yearOf(options.decidedOn);
  const court = options.intermediate ? intermediateCourt(subject.county) : basicCourt(subject.county);
  const courtDigits = options.intermediate ? subject.county.slice(2, 4) : subject.county.slice(2, 6);
  const abbreviation = provinceAbbreviation(subject.county);
  const judgment = `(${year - 1})${abbreviation}${courtDigits}${options.intermediate ? '民终' : '民初'}${serials.caseSerial()}号`;
  const ground = options.ground ?? DISHONEST_GROUNDS.pick(rng);
  const creditor = subject.kind === 'PERSON' ? '申请执行人' : '申请执行人某建材公司';
  return {
    category: 'DISHONEST_JUDGMENT_DEBTOR',
    status: options.status,
    documentNumber: `(${year})${abbreviation}${courtDigits}执${serials.caseSerial()}号`,
    title: ground,
    details: `依据${court.name}${judgment}民事判决书，被执行人${subject.name}应向${creditor}支付款项${yuan(options.amountFen)}元及利息。被执行人${ground}，依照《最高人民法院关于公布失信被执行人名单信息的若干规定》纳入失信被执行人名单。${options.status === 'REPAIRED' ? '被执行人已履行全部义务，已删除失信信息。' : ''}`,
    authority: court,
    decidedOn: options.decidedOn,
    publishedUntil: options.publishedUntil === undefined ? addYears(options.decidedOn, 2) : options.publishedUntil,
    amountFen: options.amountFen,
  };
}

interface PenaltyKind {
  issuer: 'MARKET' | 'TAX' | 'ECOLOGY' | 'LABOUR';
  title: string;
  facts: string;
  basis: string;
  minYuan: number;
  maxYuan: number;
}

const PERSON_PENALTIES: readonly PenaltyKind[] = [
  {
    issuer: 'TAX',
    title: '未按照规定期限办理个人所得税纳税申报',
    facts: '未按照规定期限办理个人所得税综合所得汇算清缴申报',
    basis: '《中华人民共和国税收征收管理法》第六十二条',
    minYuan: 200,
    maxYuan: 2000,
  },
  {
    issuer: 'MARKET',
    title: '无照经营',
    facts: '未依法取得营业执照，擅自从事经营活动',
    basis: '《无证无照经营查处办法》第十三条',
    minYuan: 1000,
    maxYuan: 10000,
  },
  {
    issuer: 'MARKET',
    title: '销售不符合食品安全标准的食品',
    facts: '经营超过保质期的食品',
    basis: '《中华人民共和国食品安全法》第一百二十四条',
    minYuan: 5000,
    maxYuan: 50000,
  },
  {
    issuer: 'ECOLOGY',
    title: '露天焚烧产生有毒有害烟尘的物质',
    facts: '在人口集中地区露天焚烧废旧电线等物质',
    basis: '《中华人民共和国大气污染防治法》第一百一十九条',
    minYuan: 1000,
    maxYuan: 20000,
  },
];

const ORGANISATION_PENALTIES: readonly PenaltyKind[] = [
  {
    issuer: 'MARKET',
    title: '销售不符合食品安全标准的食品',
    facts: '经营标签不符合规定的预包装食品',
    basis: '《中华人民共和国食品安全法》第一百二十五条',
    minYuan: 5000,
    maxYuan: 100000,
  },
  {
    issuer: 'MARKET',
    title: '发布虚假广告',
    facts: '在网络平台发布含有虚假或者引人误解内容的广告',
    basis: '《中华人民共和国广告法》第五十五条',
    minYuan: 20000,
    maxYuan: 300000,
  },
  {
    issuer: 'MARKET',
    title: '使用未经检定的计量器具',
    facts: '使用未经检定的电子计价秤进行经营',
    basis: '《中华人民共和国计量法实施细则》第四十三条',
    minYuan: 1000,
    maxYuan: 10000,
  },
  {
    issuer: 'TAX',
    title: '未按照规定期限办理纳税申报',
    facts: '未按照规定期限办理增值税纳税申报和报送纳税资料',
    basis: '《中华人民共和国税收征收管理法》第六十二条',
    minYuan: 2000,
    maxYuan: 10000,
  },
  {
    issuer: 'TAX',
    title: '少缴应纳税款',
    facts: '在账簿上多列支出，少缴企业所得税',
    basis: '《中华人民共和国税收征收管理法》第六十三条',
    minYuan: 10000,
    maxYuan: 500000,
  },
  {
    issuer: 'ECOLOGY',
    title: '超过大气污染物排放标准排放大气污染物',
    facts: '废气排放口颗粒物浓度超过排放标准',
    basis: '《中华人民共和国大气污染防治法》第九十九条',
    minYuan: 100000,
    maxYuan: 1000000,
  },
  {
    issuer: 'ECOLOGY',
    title: '建设项目未依法报批环境影响评价文件擅自开工建设',
    facts: '建设项目环境影响报告表未经批准擅自开工建设',
    basis: '《中华人民共和国环境影响评价法》第三十一条',
    minYuan: 50000,
    maxYuan: 500000,
  },
];

function penaltyAuthority(
  kind: PenaltyKind['issuer'],
  subject: CreditSubject,
  individualBusiness: boolean,
  on: Day,
): { authority: Authority; prefix: string } {
  const c = cityAbbreviation(subject.county);
  switch (kind) {
    case 'TAX':
      return { authority: taxInspectionBureau(subject.county), prefix: `${c}税稽罚` };
    case 'ECOLOGY':
      return { authority: ecologyBureau(subject.county), prefix: `${c}环罚` };
    case 'LABOUR':
      return {
        authority: { name: `${cityNameOf(subject.county)}人力资源和社会保障局`, region: cityRegionOf(subject.county) },
        prefix: `${c}人社监罚`,
      };
    default:
      return { authority: marketRegulatorOn(subject.county, on, individualBusiness), prefix: `${c}${marketRegulatorShortOn(on)}处罚` };
  }
}

export interface PenaltyOptions {
  decidedOn: Day;
  /** Overrides the status the publication dates give. */
  status?: CreditStatus;
  kind?: PenaltyKind;
  /** For an organisation registered as an individual business (county regulator). */
  individualBusiness?: boolean;
}

/** An administrative penalty (行政处罚决定). */
export function administrativePenalty(rng: Random, serials: Serials, subject: CreditSubject, options: PenaltyOptions): CreditDraft {
  const kind = options.kind ?? rng.pick(subject.kind === 'PERSON' ? PERSON_PENALTIES : ORGANISATION_PENALTIES);
  const { authority, prefix } = penaltyAuthority(kind.issuer, subject, options.individualBusiness ?? false, options.decidedOn);
  const amountFen = Math.round(rng.int(kind.minYuan, kind.maxYuan) / 100) * 10_000;
  const minor = amountFen <= 1_000_000 && rng.chance(0.5);
  const publishedUntil = addYears(options.decidedOn, minor ? 1 : 3);
  return {
    category: 'ADMINISTRATIVE_PENALTY',
    status: options.status ?? publicationStatus(rng, options.decidedOn, publishedUntil, 0.3),
    documentNumber: `${prefix}〔${yearOf(options.decidedOn)}〕${serials.caseSerial()}号`,
    title: kind.title,
    details: `当事人${subject.name}${kind.facts}。依据${kind.basis}，决定处以罚款${yuan(amountFen)}元。`,
    authority,
    decidedOn: options.decidedOn,
    publishedUntil,
    amountFen,
  };
}

/** The revocation of a business licence, itself a published penalty. */
export function revocationPenalty(serials: Serials, organisation: OrganisationRecord, revokedOn: Day): CreditDraft {
  const subject = subjectOf(organisation);
  const individual = organisation.kind === 'INDIVIDUAL_BUSINESS';
  const authority = marketRegulatorOn(organisation.county, revokedOn, individual);
  const publishedUntil = addYears(revokedOn, 3);
  // The 2022 market-entity registration regulations replaced the company registration regulations.
  const basis =
    revokedOn >= MARKET_ENTITY_REGULATIONS ? '《中华人民共和国市场主体登记管理条例》第四十六条' : '《中华人民共和国公司登记管理条例》第六十七条';
  return {
    category: 'ADMINISTRATIVE_PENALTY',
    status: publishedUntil < TODAY ? 'EXPIRED' : 'ACTIVE',
    documentNumber: `${cityAbbreviation(subject.county)}${marketRegulatorShortOn(revokedOn)}处罚〔${yearOf(revokedOn)}〕${serials.caseSerial()}号`,
    title: '吊销营业执照',
    details: `当事人${subject.name}成立后无正当理由超过六个月未开业，或者开业后自行停业连续六个月以上。依据${basis}，决定吊销营业执照。`,
    authority,
    decidedOn: revokedOn,
    publishedUntil,
    amountFen: null,
  };
}

/** The abnormal operation list (经营异常名录) exists since the 2014 registration reform. */
const ABNORMAL_LIST_START = dayOf(2014, 10, 1);
const MARKET_ENTITY_REGULATIONS = dayOf(2022, 3, 1);

export const ABNORMAL_REASONS = {
  ANNUAL_REPORT: '未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告',
  UNREACHABLE: '通过登记的住所或者经营场所无法联系',
} as const;

/** A listing in the abnormal operation list (列入经营异常名录). */
export function abnormalOperation(
  serials: Serials,
  organisation: OrganisationRecord,
  listedOn: Day,
  reason: keyof typeof ABNORMAL_REASONS,
  status: CreditStatus,
): CreditDraft {
  const individual = organisation.kind === 'INDIVIDUAL_BUSINESS';
  const authority = marketRegulatorOn(organisation.county, listedOn, individual);
  const removal = status === 'REPAIRED' ? '当事人已补报年度报告并公示，申请移出经营异常名录，已移出。' : '';
  return {
    category: 'ABNORMAL_OPERATION',
    status,
    documentNumber: `${cityAbbreviation(organisation.county)}${marketRegulatorShortOn(listedOn)}经异〔${yearOf(listedOn)}〕${serials.caseSerial()}号`,
    title: reason === 'ANNUAL_REPORT' ? '未按规定期限公示年度报告' : '通过登记的住所或者经营场所无法联系',
    details: `经查，${organisation.name}${ABNORMAL_REASONS[reason]}。依据《企业经营异常名录管理暂行办法》，决定列入经营异常名录。${removal}`,
    authority,
    decidedOn: listedOn,
    publishedUntil: null,
    amountFen: null,
  };
}

export interface CommendationOptions {
  decidedOn: Day;
  /** Prefix of the decision number, e.g. 湘卫健发 (the number reads 湘卫健发〔2024〕12号). */
  documentPrefix: string;
  title: string;
  details: string;
  authority: Authority;
  publishedUntil: Day | null;
}

/** A commendation (表彰奖励), the positive side of the credit record. */
export function commendation(serials: Serials, options: CommendationOptions): CreditDraft {
  return {
    category: 'COMMENDATION',
    status: options.publishedUntil !== null && options.publishedUntil < TODAY ? 'EXPIRED' : 'ACTIVE',
    documentNumber: `${options.documentPrefix}〔${yearOf(options.decidedOn)}〕${serials.caseSerial()}号`,
    title: options.title,
    details: options.details,
    authority: options.authority,
    decidedOn: options.decidedOn,
    publishedUntil: options.publishedUntil,
    amountFen: null,
  };
}

/** A taxpayer rated A for `year` (纳税信用A级), published for the following year. */
export function taxpayerRatingA(serials: Serials, organisation: OrganisationRecord, year: number): CreditDraft {
  const authority = provincialTaxBureau(organisation.county);
  return commendation(serials, {
    decidedOn: dayOf(year + 1, 4, 20),
    documentPrefix: `${provinceAbbreviation(organisation.county)}税公告`,
    title: `${year}年度纳税信用A级纳税人`,
    details: `${organisation.name}在${year}年度纳税信用评价中被评为A级，享受守信激励措施。`,
    authority,
    publishedUntil: dayOf(year + 1, 12, 31),
  });
}

export function subjectOf(organisation: OrganisationRecord): CreditSubject {
  return { kind: 'ORGANISATION', id: organisation.creditCode, name: organisation.name, county: organisation.county };
}

function randomDay(rng: Random, from: Day, to: Day): Day {
  return to <= from ? to : rng.int(from, to);
}

/** Credit records of a generated person (about 3 % of living adults have one). */
export function planPersonCredit(rng: Random, serials: Serials, person: PersonPlan): CreditDraft[] {
  if (person.death !== null || ageOn(person.birth, TODAY) < 20) return [];
  const subject: CreditSubject = { kind: 'PERSON', id: person.idNumber, name: person.name, county: person.county };
  const r = rng.next();
  if (r < 0.011) {
    const decidedOn = randomDay(rng, Math.max(dayOf(2016, 1, 1), addYears(person.birth, 22)), TODAY - 30);
    const recent = TODAY - decidedOn < 2 * 365;
    const status: CreditStatus = recent
      ? rng.chance(0.6)
        ? 'ACTIVE'
        : 'REPAIRED'
      : rng.pick(['ACTIVE', 'REPAIRED', 'REPAIRED', 'EXPIRED'] as const);
    const openEnded = status === 'ACTIVE' && !recent;
    return [
      dishonestDebtor(rng, serials, subject, {
        decidedOn,
        amountFen: rng.int(20, 2000) * 100_000,
        status,
        intermediate: rng.chance(0.15),
        // A listing still active past its two years was extended without end.
        publishedUntil: openEnded ? null : addYears(decidedOn, 2),
      }),
    ];
  }
  if (r < 0.024) {
    return [administrativePenalty(rng, serials, subject, { decidedOn: randomDay(rng, dayOf(2019, 1, 1), TODAY - 10) })];
  }
  if (r < 0.03) {
    const decidedOn = randomDay(rng, dayOf(2016, 1, 1), TODAY - 20);
    const which = rng.int(0, 2);
    const province = provinceAbbreviation(person.county);
    const city = cityAbbreviation(person.county);
    const options: CommendationOptions =
      which === 0
        ? {
            decidedOn,
            documentPrefix: `${province}卫健发`,
            title: '全国无偿献血奉献奖金奖',
            details: `${person.name}累计无偿献血达到规定次数，获全国无偿献血奉献奖金奖。`,
            authority: provincialHealthCommission(person.county),
            publishedUntil: null,
          }
        : which === 1
          ? {
              decidedOn,
              documentPrefix: `${city}政发`,
              title: '见义勇为先进个人',
              details: `${person.name}在危急时刻挺身而出救助落水群众，经评审确认为见义勇为先进个人。`,
              authority: cityGovernment(person.county),
              publishedUntil: addYears(decidedOn, 3),
            }
          : {
              decidedOn,
              documentPrefix: `${city}政发`,
              title: '优秀志愿者',
              details: `${person.name}长期参加社区志愿服务，累计服务时长超过1500小时。`,
              authority: cityGovernment(person.county),
              publishedUntil: addYears(decidedOn, 3),
            };
    return [commendation(serials, options)];
  }
  return [];
}

/** Credit records of a generated organisation (about one in five has one). */
export function planOrganisationCredit(rng: Random, serials: Serials, organisation: OrganisationRecord): CreditDraft[] {
  const subject = subjectOf(organisation);
  const records: CreditDraft[] = [];
  const individual = organisation.kind === 'INDIVIDUAL_BUSINESS';
  const until = organisation.statusChanged ?? TODAY;
  const open = (from: Day): Day => randomDay(rng, Math.max(from, organisation.established + 200), until - 10);

  if (organisation.status === 'REVOKED' && organisation.statusChanged !== null) {
    const listed = Math.max(organisation.established + 90, organisation.statusChanged - rng.int(180, 540));
    if (listed >= ABNORMAL_LIST_START) records.push(abnormalOperation(serials, organisation, listed, 'UNREACHABLE', 'ACTIVE'));
    records.push(revocationPenalty(serials, organisation, organisation.statusChanged));
    return records;
  }
  if (organisation.arrearsMonths > 0 && rng.chance(0.6)) {
    records.push(
      administrativePenalty(rng, serials, subject, {
        decidedOn: TODAY - rng.int(10, 60),
        kind: {
          issuer: 'LABOUR',
          title: '未按时足额缴纳社会保险费',
          facts: `未按时足额为职工缴纳社会保险费，欠缴${organisation.arrearsMonths}个月`,
          basis: '《中华人民共和国社会保险法》第八十六条',
          minYuan: 5000,
          maxYuan: 50000,
        },
      }),
    );
  }
  if (TODAY - organisation.established < 400) return records;
  const r = rng.next();
  if (r < 0.07) {
    const year = rng.int(Math.max(2019, yearOf(organisation.established) + 1), Math.min(2026, yearOf(until)));
    const listed = Math.min(dayOf(year, 7, 1) + rng.int(0, 40), until - 5);
    if (listed > organisation.established) {
      const status: CreditStatus = organisation.status !== 'ACTIVE' || rng.chance(0.45) ? 'REPAIRED' : 'ACTIVE';
      records.push(abnormalOperation(serials, organisation, listed, rng.chance(0.7) ? 'ANNUAL_REPORT' : 'UNREACHABLE', status));
    }
  } else if (r < 0.13) {
    records.push(administrativePenalty(rng, serials, subject, { decidedOn: open(dayOf(2018, 1, 1)), individualBusiness: individual }));
  } else if (r < 0.15 && !individual) {
    const decidedOn = open(dayOf(2017, 1, 1));
    const status: CreditStatus =
      TODAY - decidedOn < 2 * 365 ? (rng.chance(0.7) ? 'ACTIVE' : 'REPAIRED') : rng.pick(['REPAIRED', 'EXPIRED', 'ACTIVE'] as const);
    const openEnded = status === 'ACTIVE' && TODAY - decidedOn >= 2 * 365;
    records.push(
      dishonestDebtor(rng, serials, subject, {
        decidedOn,
        amountFen: rng.int(10, 500) * 1_000_000,
        status,
        intermediate: rng.chance(0.3),
        publishedUntil: openEnded ? null : addYears(decidedOn, 2),
      }),
    );
  } else if (r < 0.21 && organisation.status === 'ACTIVE' && !individual) {
    // Ratings are published in April for the previous year; the latest is for 2025.
    const firstRatedYear = Math.max(2019, yearOf(organisation.established) + 1);
    if (firstRatedYear <= 2025 && rng.chance(0.7)) {
      records.push(taxpayerRatingA(serials, organisation, rng.int(firstRatedYear, 2025)));
    } else {
      const decidedOn = open(dayOf(2019, 1, 1));
      records.push(
        commendation(serials, {
          decidedOn,
          documentPrefix: `${cityAbbreviation(organisation.county)}市监信`,
          title: '守合同重信用企业',
          details: `${organisation.name}连续两年合同履约率达到100%，无不良信用记录，经公示被认定为守合同重信用企业。`,
          authority: cityMarketRegulator(organisation.county),
          publishedUntil: addYears(decidedOn, 2),
        }),
      );
    }
  }
  return records;
}

export function writeCreditRecords(
  sink: RowSink,
  serials: Serials,
  subject: Pick<CreditSubject, 'kind' | 'id'>,
  records: readonly CreditDraft[],
): void {
  for (const record of records) {
    sink.write('credit_records', {
      id: serials.creditRecordId(yearOf(record.decidedOn)),
      subject_kind: subject.kind,
      subject_id: subject.id,
      category: record.category,
      status: record.status,
      document_number: record.documentNumber,
      title: record.title,
      details: record.details,
      authority_name: record.authority.name,
      authority_region: record.authority.region,
      decided_on: isoDate(record.decidedOn),
      published_until: record.publishedUntil === null ? null : isoDate(record.publishedUntil),
      amount_fen: record.amountFen,
    });
  }
}
