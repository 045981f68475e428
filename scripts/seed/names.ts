/**
 * Personal names as the household register writes them:
 *
 * - Han and most other ethnic groups: a surname drawn by real frequency plus
 *   one or two given-name characters in the fashion of the birth decade
 *   (建国 and 秀英 in the 1950s, 子涵 and 梓轩 in the 2010s);
 * - Tibetan: no surname, one or two name parts (扎西次仁, 卓玛);
 * - Uyghur and Kazakh: given name · father's given name, in the Chinese
 *   transliteration with a middle dot (买买提·艾力), so children carry their
 *   father's name as the second part;
 * - Mongolian: a Mongolian given name or, as often, a Han name.
 */
import { type Random, WeightedList } from './random.js';

export type Sex = 'MALE' | 'FEMALE';

/** The 100 commonest surnames with their share in percent (2020 census order), plus two compound ones. */
const SURNAMES = new WeightedList<string>(
  (
    '王7.12 李7.06 张6.83 刘5.38 陈4.55 杨3.08 黄2.23 赵2.19 吴2.05 周1.95 徐1.39 孙1.36 马1.30 朱1.23 胡1.16 郭1.15 何1.14 ' +
    '高1.05 林1.02 罗0.95 郑0.95 梁0.88 谢0.82 宋0.77 唐0.73 许0.67 韩0.65 冯0.64 邓0.64 曹0.62 彭0.60 曾0.57 肖0.56 ' +
    '田0.53 董0.52 袁0.49 潘0.48 于0.48 蒋0.48 蔡0.47 余0.46 杜0.45 叶0.44 程0.43 苏0.41 魏0.41 吕0.41 丁0.40 任0.39 ' +
    '沈0.38 姚0.37 卢0.36 姜0.36 崔0.35 钟0.35 谭0.34 陆0.34 汪0.33 范0.33 金0.33 石0.32 廖0.31 贾0.31 夏0.30 韦0.30 ' +
    '付0.29 方0.29 白0.29 邹0.28 孟0.28 熊0.27 秦0.27 邱0.27 江0.26 尹0.26 薛0.25 闫0.25 段0.24 雷0.24 侯0.24 龙0.23 ' +
    '史0.23 陶0.22 黎0.22 贺0.22 顾0.22 毛0.21 郝0.21 龚0.21 邵0.20 万0.20 钱0.20 严0.19 覃0.19 武0.19 戴0.18 莫0.18 ' +
    '孔0.18 向0.17 汤0.17 欧阳0.05 上官0.01'
  )
    .split(' ')
    .map((entry) => {
      const [, surname, share] = /^(\D+)([\d.]+)$/.exec(entry)!;
      return [surname, Number(share)] as const;
    }),
);

/** Surnames common among the Hui, Zhuang, Manchu and Korean, who use Han-style names. */
const ETHNIC_SURNAMES: Record<string, WeightedList<string>> = {
  回族: new WeightedList([
    ['马', 30],
    ['杨', 8],
    ['李', 7],
    ['丁', 6],
    ['白', 5],
    ['海', 3],
    ['纳', 3],
    ['穆', 3],
    ['哈', 2],
    ['冶', 3],
    ['韩', 4],
    ['金', 3],
    ['沙', 2],
    ['王', 6],
    ['张', 5],
  ]),
  壮族: new WeightedList([
    ['韦', 20],
    ['黄', 15],
    ['覃', 12],
    ['蒙', 8],
    ['陆', 7],
    ['莫', 7],
    ['农', 6],
    ['梁', 6],
    ['卢', 5],
    ['潘', 5],
    ['廖', 4],
    ['李', 5],
  ]),
  满族: new WeightedList([
    ['关', 15],
    ['佟', 10],
    ['那', 8],
    ['赵', 8],
    ['富', 6],
    ['金', 8],
    ['傅', 6],
    ['王', 8],
    ['张', 6],
    ['郎', 5],
  ]),
  朝鲜族: new WeightedList([
    ['金', 30],
    ['李', 20],
    ['朴', 15],
    ['崔', 10],
    ['郑', 6],
    ['姜', 5],
    ['赵', 5],
    ['张', 4],
    ['尹', 3],
  ]),
  土家族: new WeightedList([
    ['向', 15],
    ['田', 15],
    ['彭', 12],
    ['覃', 8],
    ['冉', 8],
    ['张', 8],
    ['李', 8],
    ['王', 6],
  ]),
};

type Era = 'old' | 'middle' | 'young';

function eraOf(birthYear: number): Era {
  if (birthYear < 1970) return 'old';
  if (birthYear < 1995) return 'middle';
  return 'young';
}

interface GivenNamePool {
  /** Whole given names typical of the era. */
  whole: readonly string[];
  first: string;
  second: string;
}

/** Given-name characters by era and sex. */
const GIVEN: Record<Era, Record<Sex, GivenNamePool>> = {
  old: {
    MALE: {
      whole: [
        '建国',
        '建军',
        '国庆',
        '国华',
        '志强',
        '志明',
        '德明',
        '卫东',
        '红军',
        '跃进',
        '振华',
        '海军',
        '保国',
        '立新',
        '福生',
        '金山',
        '玉林',
        '春生',
        '秋生',
        '长林',
      ],
      first: '建国志德卫振保立福金玉春长永文学明俊树家',
      second: '国军华强明东新生山林平成民功安发忠祥福才',
    },
    FEMALE: {
      whole: [
        '秀英',
        '桂英',
        '秀兰',
        '玉兰',
        '桂兰',
        '淑珍',
        '凤英',
        '玉梅',
        '秀珍',
        '丽华',
        '美玲',
        '红梅',
        '春梅',
        '金凤',
        '翠花',
        '秀芳',
        '淑英',
        '玉珍',
        '素芬',
        '建华',
      ],
      first: '秀桂玉淑凤丽美红春金翠素建月冬兰惠彩菊爱',
      second: '英兰珍梅芳华玲凤花琴芬霞娥莲香云荣娟萍秀',
    },
  },
  middle: {
    MALE: {
      whole: ['伟', '磊', '涛', '鹏', '杰', '强', '军', '斌', '勇', '浩', '超', '亮', '健', '明', '辉', '波', '宇', '俊', '峰', '龙'],
      first: '建志晓俊文海国明永家鹏天嘉浩宇立小少晨德',
      second: '伟华明军强杰斌峰涛鹏辉东波林刚勇平宇龙飞成',
    },
    FEMALE: {
      whole: ['静', '丽', '敏', '燕', '艳', '娟', '霞', '婷', '雪', '琳', '慧', '颖', '芳', '洁', '倩', '丹', '晶', '莉', '佳', '红'],
      first: '丽晓春海美秀佳雪雅欣婷思文小玉金彩巧红慧',
      second: '娟华丽燕红英萍玲芳霞敏静婷琳洁梅莉倩颖丹',
    },
  },
  young: {
    MALE: {
      whole: [
        '浩宇',
        '子轩',
        '宇轩',
        '浩然',
        '梓轩',
        '俊杰',
        '一鸣',
        '博文',
        '天佑',
        '雨泽',
        '皓轩',
        '奕辰',
        '宇航',
        '思远',
        '明轩',
        '铭',
        '泽',
        '睿',
        '宸',
        '昊',
      ],
      first: '子梓宇浩俊博天一皓奕思明嘉睿铭泽晨逸沐景',
      second: '轩涵宇然杰文辰泽航远阳睿鸣恒哲凯铭瑞霖川',
    },
    FEMALE: {
      whole: [
        '欣怡',
        '子涵',
        '诗涵',
        '梓涵',
        '一诺',
        '雨桐',
        '可馨',
        '思涵',
        '语嫣',
        '紫萱',
        '梦瑶',
        '佳怡',
        '若汐',
        '芷晴',
        '沐瑶',
        '悦',
        '彤',
        '琪',
        '妍',
        '萱',
      ],
      first: '欣子诗梓雨可思语紫梦佳若一雅心悦艺安芷沐',
      second: '怡涵诺桐馨萱瑶彤琪妍雯然菲悦宁晴茜蕊汐琳',
    },
  },
};

function hanGivenName(rng: Random, sex: Sex, birthYear: number): string {
  const pool = GIVEN[eraOf(birthYear)][sex];
  if (rng.chance(0.3)) return rng.pick(pool.whole);
  const second = pool.second.charAt(rng.int(0, pool.second.length - 1));
  if (rng.chance(0.15)) return second;
  return pool.first.charAt(rng.int(0, pool.first.length - 1)) + second;
}

/** A surname for a new family line of `ethnicity`. */
export function surnameFor(rng: Random, ethnicity: string): string {
  const special = ETHNIC_SURNAMES[ethnicity];
  return special && rng.chance(0.85) ? special.pick(rng) : SURNAMES.pick(rng);
}

/** A Han-style full name: `surname` plus a given name of the birth year's fashion. */
export function hanName(rng: Random, surname: string, sex: Sex, birthYear: number): string {
  return surname + hanGivenName(rng, sex, birthYear);
}

const TIBETAN: Record<Sex, readonly string[]> = {
  MALE: [
    '扎西',
    '次仁',
    '顿珠',
    '平措',
    '尼玛',
    '多吉',
    '旺堆',
    '罗布',
    '边巴',
    '格桑',
    '索朗',
    '丹增',
    '洛桑',
    '强巴',
    '巴桑',
    '普布',
    '达瓦',
    '米玛',
    '拉巴',
    '次旺',
    '旦增',
    '白玛',
    '贡嘎',
    '群培',
  ],
  FEMALE: [
    '卓玛',
    '拉姆',
    '央金',
    '德吉',
    '曲珍',
    '次仁',
    '格桑',
    '白玛',
    '仁青',
    '措姆',
    '普赤',
    '尼珍',
    '央宗',
    '益西',
    '达娃',
    '巴桑',
    '玉珍',
    '旺姆',
    '次珍',
    '扎西',
    '德央',
    '琼达',
  ],
};

/** Tibetan names: two parts (扎西次仁, 次仁卓玛) or one (卓玛); the second part often marks the sex. */
export function tibetanName(rng: Random, sex: Sex): string {
  if (rng.chance(0.25)) return rng.pick(TIBETAN[sex]);
  const first = rng.pick(TIBETAN[rng.chance(0.3) ? 'MALE' : sex]);
  let second = rng.pick(TIBETAN[sex]);
  while (second === first) second = rng.pick(TIBETAN[sex]);
  return first + second;
}

const UYGHUR: Record<Sex, readonly string[]> = {
  MALE: [
    '买买提',
    '艾力',
    '阿不都',
    '吐尔逊',
    '艾买提',
    '阿布来提',
    '买合木提',
    '麦麦提',
    '努尔麦麦提',
    '艾尔肯',
    '热合曼',
    '吾斯曼',
    '亚森',
    '依明',
    '卡德尔',
    '塔依尔',
    '阿迪力',
    '艾克拜尔',
    '买买提江',
    '伊力哈木',
    '牙生',
    '阿卜杜拉',
    '肉孜',
    '吐逊江',
    '艾则孜',
    '如则',
    '阿里木',
    '库尔班',
  ],
  FEMALE: [
    '阿依古丽',
    '古丽娜尔',
    '帕提古丽',
    '热依拉',
    '米热古丽',
    '阿米娜',
    '努尔古丽',
    '祖丽菲亚',
    '阿孜古丽',
    '古丽巴哈尔',
    '迪丽努尔',
    '热娜古丽',
    '布维再乃甫',
    '阿依努尔',
    '萨迪古丽',
    '玛依拉',
    '再娜甫',
    '海热古丽',
    '努尔尼沙',
    '布合力其姆',
    '帕孜丽娅',
    '米娜瓦尔',
  ],
};

const KAZAKH: Record<Sex, readonly string[]> = {
  MALE: ['努尔兰', '叶尔江', '别克', '哈力木拉提', '加尔肯', '巴合提别克', '叶尔兰', '阿斯哈尔', '哈那提', '木拉提', '沙力克', '阿依丁'],
  FEMALE: ['古丽米拉', '阿依达娜', '古丽扎达', '加娜尔', '阿依曼', '哈孜伊娜', '沙吾列', '玛丽亚', '阿依古丽', '努尔加玛丽'],
};

/** A given name of a Turkic-naming ethnicity (维吾尔族, 哈萨克族): the part a child inherits from the father. */
export function turkicGivenName(rng: Random, ethnicity: string, sex: Sex): string {
  return rng.pick((ethnicity === '哈萨克族' ? KAZAKH : UYGHUR)[sex]);
}

/** Given name · father's given name. */
export function turkicName(given: string, fatherGiven: string): string {
  return `${given}·${fatherGiven}`;
}

const MONGOLIAN: Record<Sex, readonly string[]> = {
  MALE: ['巴特尔', '苏和', '额尔敦', '那日苏', '宝音', '朝鲁', '孟和', '阿拉坦', '巴雅尔', '毕力格', '特木尔', '乌力吉', '格日勒图', '额尔德尼'],
  FEMALE: ['其其格', '乌云', '萨仁', '斯琴', '图雅', '敖登', '乌兰', '格日勒', '娜仁', '高娃', '萨日娜', '塔娜', '阿拉坦其其格'],
};

export function mongolianName(rng: Random, sex: Sex): string {
  return rng.pick(MONGOLIAN[sex]);
}

/** How an ethnicity names people. */
export type NamingStyle = 'HAN' | 'TIBETAN' | 'TURKIC' | 'MONGOLIAN';

export function namingStyleOf(ethnicity: string): NamingStyle {
  if (ethnicity === '藏族') return 'TIBETAN';
  if (ethnicity === '维吾尔族' || ethnicity === '哈萨克族') return 'TURKIC';
  if (ethnicity === '蒙古族') return 'MONGOLIAN';
  return 'HAN';
}

/** Any name for a person of `ethnicity` outside a family context (legal representatives, collective-household members). */
export function anyName(rng: Random, ethnicity: string, sex: Sex, birthYear: number): string {
  switch (namingStyleOf(ethnicity)) {
    case 'TIBETAN':
      return tibetanName(rng, sex);
    case 'TURKIC':
      return turkicName(turkicGivenName(rng, ethnicity, sex), turkicGivenName(rng, ethnicity, 'MALE'));
    case 'MONGOLIAN':
      if (rng.chance(0.5)) return mongolianName(rng, sex);
      return hanName(rng, surnameFor(rng, ethnicity), sex, birthYear);
    default:
      return hanName(rng, surnameFor(rng, ethnicity), sex, birthYear);
  }
}
