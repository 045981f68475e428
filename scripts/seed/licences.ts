/**
 * Electronic licences (电子证照) and their history:
 *
 * - 营业执照 of every organisation: number = credit code; issued by the city
 *   market regulator (the county one for individual businesses); re-issued on
 *   a registered change (AMENDED); REVOKED when the organisation is revoked
 *   (吊销), CANCELLED when it is deregistered (注销);
 * - 机动车驾驶证 of about half the adults: number = ID number, as on the real
 *   licence; valid 6 years, then 10, then long-term (长期), each renewal
 *   (换证) an event, issued by the traffic police of the province where the
 *   holder was registered at the time; a few lapsed (EXPIRED), a very few
 *   revoked for drink-driving; the licences of the deceased are CANCELLED;
 * - 职业资格证书 of about one adult in ten: occupation and level (五级 to 一级),
 *   long-term, issued by the provincial human-resources department.
 *
 * The attributes column holds what the licence prints, as a JSON array of
 * {name, value}.
 */
import { regionOf } from '../../common/regions.js';
import { TODAY, addYears, ageOn, dayOf, isoDate, yearOf, type Day } from './calendar.js';
import { humanResourcesDepartment, marketRegulatorOn, trafficPolice, type Authority } from './authorities.js';
import type { Serials } from './identifiers.js';
import type { OrganisationRecord } from './organisations.js';
import { registrationCountyOn, type PersonPlan } from './population.js';
import { PROVINCE_BY_CODE, isRuralCounty, provinceCodeOfCounty } from './places.js';
import { WeightedList, type Random } from './random.js';
import type { RowSink } from './row-sink.js';

export interface DrivingLicencePlan {
  firstIssued: Day;
  /** 准驾车型, e.g. C1. */
  vehicleClass: string;
  /** The holder let the licence lapse at its last expiry instead of renewing. */
  lapsed: boolean;
  /** Day the licence was revoked (吊销), if it was. */
  revoked: Day | null;
}

export interface QualificationPlan {
  occupation: string;
  /** 5 (五级/初级工) … 1 (一级/高级技师). */
  level: number;
  issued: Day;
  revoked: Day | null;
}

interface LicenceEvent {
  kind: 'ISSUED' | 'RENEWED' | 'AMENDED' | 'REVOKED' | 'CANCELLED';
  date: Day;
  note: string;
  authority: Authority;
}

const VEHICLE_CLASSES = new WeightedList([
  ['C1', 70],
  ['C2', 12],
  ['B2', 5],
  ['A2', 2],
  ['A1', 1],
  ['D', 5],
  ['C1E', 5],
] as const);

const OCCUPATIONS = new WeightedList([
  ['电工', 14],
  ['焊工', 8],
  ['育婴员', 8],
  ['中式烹调师', 10],
  ['中式面点师', 7],
  ['美容师', 5],
  ['美发师', 5],
  ['保育师', 5],
  ['养老护理员', 7],
  ['汽车维修工', 6],
  ['茶艺师', 3],
  ['西式面点师', 3],
  ['车工', 3],
  ['钳工', 3],
  ['保安员', 5],
  ['家政服务员', 5],
  ['农艺工', 2],
] as const);
const LEVEL_NAMES: Record<number, string> = { 5: '五级/初级工', 4: '四级/中级工', 3: '三级/高级工', 2: '二级/技师', 1: '一级/高级技师' };
const LEVELS = new WeightedList([
  [5, 30],
  [4, 35],
  [3, 25],
  [2, 8],
  [1, 2],
] as const);

function trafficPoliceOf(county: string): Authority {
  const province = provinceCodeOfCounty(county);
  return trafficPolice(province, PROVINCE_BY_CODE.get(province)!.name);
}

function humanResourcesOf(county: string): Authority {
  const province = provinceCodeOfCounty(county);
  return humanResourcesDepartment(province, PROVINCE_BY_CODE.get(province)!.name);
}

function lastDayOf(person: PersonPlan): Day {
  return Math.min(person.death ?? TODAY, TODAY);
}

/** Whether and when a generated person got a driving licence. */
export function planDrivingLicence(rng: Random, person: PersonPlan): DrivingLicencePlan | null {
  const last = lastDayOf(person);
  if (ageOn(person.birth, last) < 18) return null;
  const share = (person.sex === 'MALE' ? 0.62 : 0.38) * (isRuralCounty(person.county) ? 0.7 : 1);
  if (!rng.chance(share)) return null;
  const earliest = Math.max(addYears(person.birth, 18) + 30, dayOf(1990, 1, 1));
  const latest = last - 30;
  if (earliest >= latest) return null;
  // Most people learn to drive young: skew towards the early end.
  const firstIssued = earliest + Math.floor((latest - earliest) * rng.next() ** 1.6);
  return {
    firstIssued,
    vehicleClass: VEHICLE_CLASSES.pick(rng),
    lapsed: rng.chance(0.03),
    revoked: rng.chance(0.004) && latest - firstIssued > 400 ? rng.int(firstIssued + 365, latest) : null,
  };
}

/** Whether and when a generated person obtained a professional qualification. */
export function planQualification(rng: Random, person: PersonPlan): QualificationPlan | null {
  const last = lastDayOf(person);
  if (ageOn(person.birth, last) < 20 || !rng.chance(0.115)) return null;
  const earliest = Math.max(addYears(person.birth, 20), dayOf(2003, 1, 1));
  const latest = Math.min(addYears(person.birth, 55), last - 30);
  if (earliest >= latest) return null;
  const issued = rng.int(earliest, latest);
  return {
    occupation: OCCUPATIONS.pick(rng),
    level: LEVELS.pick(rng),
    issued,
    revoked: rng.chance(0.005) && latest - issued > 400 ? rng.int(issued + 200, latest) : null,
  };
}

function attributes(pairs: [string, string][]): string {
  return JSON.stringify(pairs.map(([name, value]) => ({ name, value })));
}

function writeEvents(sink: RowSink, identifier: string, events: readonly LicenceEvent[]): void {
  events.forEach((event, seq) => {
    sink.write('licence_events', {
      identifier,
      seq,
      kind: event.kind,
      date: isoDate(event.date),
      note: event.note,
      authority_name: event.authority.name,
      authority_region: event.authority.region,
    });
  });
}

export function writeDrivingLicence(sink: RowSink, serials: Serials, rng: Random, person: PersonPlan, plan: DrivingLicencePlan): void {
  const last = lastDayOf(person);
  const issuerOn = (day: Day): Authority => trafficPoliceOf(registrationCountyOn(person, day));
  const events: LicenceEvent[] = [
    { kind: 'ISSUED', date: plan.firstIssued, note: `初次申领，准驾车型${plan.vehicleClass}`, authority: issuerOn(plan.firstIssued) },
  ];
  // Validity: 6 years, then 10, then long-term; a renewal keeps the anniversary.
  let validFrom = plan.firstIssued;
  let validUntil: Day | null = addYears(plan.firstIssued, 6);
  let issuedOn = plan.firstIssued;
  let status: 'VALID' | 'EXPIRED' | 'REVOKED' | 'CANCELLED' = 'VALID';
  const endOfLife = Math.min(plan.revoked ?? last, last);
  for (let period = 1; validUntil !== null && validUntil <= endOfLife; period++) {
    if (plan.lapsed && validUntil < TODAY) {
      status = 'EXPIRED';
      break;
    }
    const renewedOn = validUntil - rng.int(0, 85);
    const next: Day | null = period === 1 ? addYears(validUntil, 10) : null;
    const issuer = issuerOn(renewedOn);
    const transferred = issuer.name !== events[events.length - 1].authority.name;
    events.push({
      kind: 'RENEWED',
      date: renewedOn,
      note: next === null ? '有效期满换证，换发长期有效驾驶证' : transferred ? '有效期满换证（户籍迁入地转入）' : '有效期满换证',
      authority: issuer,
    });
    issuedOn = renewedOn;
    validFrom = validUntil;
    validUntil = next;
  }
  if (plan.revoked !== null && status === 'VALID') {
    status = 'REVOKED';
    events.push({
      kind: 'REVOKED',
      date: plan.revoked,
      note: '醉酒驾驶机动车，依法吊销机动车驾驶证，五年内不得重新取得',
      authority: issuerOn(plan.revoked),
    });
  } else if (person.death !== null) {
    status = 'CANCELLED';
    events.push({
      kind: 'CANCELLED',
      date: Math.min(person.death + rng.int(30, 200), TODAY - 1),
      note: '持证人死亡，注销机动车驾驶证',
      authority: issuerOn(person.death),
    });
  }
  if (status === 'VALID' && validUntil !== null && validUntil < TODAY) status = 'EXPIRED';
  const issuer = events.filter((e) => e.kind === 'ISSUED' || e.kind === 'RENEWED').pop()!.authority;
  const identifier = serials.licenceIdentifier('DRIVING_LICENCE', issuer.region);
  sink.write('licences', {
    identifier,
    type: 'DRIVING_LICENCE',
    title: '机动车驾驶证',
    number: person.idNumber,
    status,
    holder_kind: 'PERSON',
    holder_id: person.idNumber,
    holder_name: person.name,
    issuer_name: issuer.name,
    issuer_region: issuer.region,
    issued_on: isoDate(issuedOn),
    valid_from: isoDate(validFrom),
    valid_until: validUntil === null ? null : isoDate(validUntil),
    attributes: attributes([
      ['准驾车型', plan.vehicleClass],
      ['初次领证日期', isoDate(plan.firstIssued)],
      ['档案编号', serials.drivingFileNumber(issuer.region)],
    ]),
  });
  writeEvents(sink, identifier, events);
}

export function writeQualification(sink: RowSink, serials: Serials, person: PersonPlan, plan: QualificationPlan): void {
  const issuer = humanResourcesOf(registrationCountyOn(person, plan.issued));
  const identifier = serials.licenceIdentifier('PROFESSIONAL_QUALIFICATION', issuer.region);
  const events: LicenceEvent[] = [
    { kind: 'ISSUED', date: plan.issued, note: `职业技能鉴定合格，核发${plan.occupation}${LEVEL_NAMES[plan.level]}证书`, authority: issuer },
  ];
  if (plan.revoked !== null) {
    events.push({ kind: 'REVOKED', date: plan.revoked, note: '经核查以欺骗等不正当手段取得，依法撤销证书', authority: issuer });
  }
  sink.write('licences', {
    identifier,
    type: 'PROFESSIONAL_QUALIFICATION',
    title: '职业资格证书',
    number: serials.qualificationNumber(yearOf(plan.issued), plan.level, issuer.region),
    status: plan.revoked === null ? 'VALID' : 'REVOKED',
    holder_kind: 'PERSON',
    holder_id: person.idNumber,
    holder_name: person.name,
    issuer_name: issuer.name,
    issuer_region: issuer.region,
    issued_on: isoDate(plan.issued),
    valid_from: isoDate(plan.issued),
    valid_until: null,
    attributes: attributes([
      ['职业', plan.occupation],
      ['等级', LEVEL_NAMES[plan.level]],
      ['发证日期', isoDate(plan.issued)],
    ]),
  });
  writeEvents(sink, identifier, events);
}

/** 100 万元 for 10000 wan-fen. */
export function formatWan(wanFen: number): string {
  return `${wanFen % 100 === 0 ? wanFen / 100 : (wanFen / 100).toFixed(2)}万元`;
}

/** The register row of an organisation and its business licence with history. */
export function writeOrganisation(sink: RowSink, serials: Serials, organisation: OrganisationRecord): void {
  const region = regionOf(organisation.county);
  const address = `${region.fullName ?? ''}${organisation.street}`;
  sink.write('organisations', {
    credit_code: organisation.creditCode,
    name: organisation.name,
    entity_type: organisation.entityType,
    legal_representative: organisation.legalRepresentative,
    capital_wan_fen: organisation.capitalWanFen,
    established_on: isoDate(organisation.established),
    address,
    region_code: organisation.county,
    business_scope: organisation.businessScope,
    status: organisation.status,
  });

  const individual = organisation.kind === 'INDIVIDUAL_BUSINESS';
  const regulatorOn = (day: Day): Authority => marketRegulatorOn(organisation.county, day, individual);
  const events: LicenceEvent[] = [
    { kind: 'ISSUED', date: organisation.established, note: '设立登记，核发营业执照', authority: regulatorOn(organisation.established) },
  ];
  if (organisation.amended) {
    events.push({
      kind: 'AMENDED',
      date: organisation.amended.on,
      note: `${organisation.amended.note}，换发营业执照`,
      authority: regulatorOn(organisation.amended.on),
    });
  }
  // The licence in force is the one issued last, by the regulator of that day.
  const issuedOn = organisation.amended?.on ?? organisation.established;
  const issuer = regulatorOn(issuedOn);
  let status: 'VALID' | 'REVOKED' | 'CANCELLED' = 'VALID';
  if (organisation.status === 'REVOKED' && organisation.statusChanged !== null) {
    status = 'REVOKED';
    events.push({
      kind: 'REVOKED',
      date: organisation.statusChanged,
      note: '成立后无正当理由超过六个月未开业，或者开业后自行停业连续六个月以上，依法吊销营业执照',
      authority: regulatorOn(organisation.statusChanged),
    });
  } else if (organisation.status === 'DEREGISTERED' && organisation.statusChanged !== null) {
    status = 'CANCELLED';
    events.push({
      kind: 'CANCELLED',
      date: organisation.statusChanged,
      note: individual ? '经营者申请注销登记' : '申请简易注销登记，营业执照缴回',
      authority: regulatorOn(organisation.statusChanged),
    });
  }
  const printed: [string, string][] = [
    ['类型', organisation.entityType],
    [individual ? '经营者' : '法定代表人', organisation.legalRepresentative],
  ];
  if (organisation.capitalWanFen !== null) {
    printed.push([organisation.kind === 'COOPERATIVE' ? '成员出资总额' : '注册资本', formatWan(organisation.capitalWanFen)]);
  }
  printed.push(['成立日期', isoDate(organisation.established)]);
  if (!individual) printed.push(['营业期限', organisation.termEnds === null ? '长期' : `至${isoDate(organisation.termEnds)}`]);
  printed.push([individual ? '经营场所' : '住所', address], ['经营范围', organisation.businessScope]);

  const identifier = serials.licenceIdentifier('BUSINESS_LICENCE', issuer.region);
  sink.write('licences', {
    identifier,
    type: 'BUSINESS_LICENCE',
    title: '营业执照',
    number: organisation.creditCode,
    status,
    holder_kind: 'ORGANISATION',
    holder_id: organisation.creditCode,
    holder_name: organisation.name,
    issuer_name: issuer.name,
    issuer_region: issuer.region,
    issued_on: isoDate(issuedOn),
    valid_from: isoDate(organisation.established),
    valid_until: organisation.termEnds === null ? null : isoDate(organisation.termEnds),
    attributes: attributes(printed),
  });
  writeEvents(sink, identifier, events);
}
