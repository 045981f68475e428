/**
 * Ethnicity (民族) of the families born in a place, roughly as the 2020
 * census has it: mostly 汉族; 藏族 in Tibet and parts of Qinghai; 维吾尔族
 * around Kashgar and in Shache; 回族 in Ningxia; 壮族 in Guangxi; and so on.
 * County-level overrides where the counties of the seed documents differ
 * sharply from their province.
 */
import { type WeightedList, weighted, type Random } from './random.js';
import { provinceCodeOfCounty } from './places.js';

const HAN_ONLY = weighted({ 汉族: 99, 回族: 1 });

const BY_PROVINCE: Record<string, WeightedList<string>> = {
  '540000': weighted({ 藏族: 88, 汉族: 11, 回族: 1 }),
  '650000': weighted({ 汉族: 55, 维吾尔族: 30, 回族: 8, 哈萨克族: 7 }),
  '660000': weighted({ 汉族: 92, 维吾尔族: 3, 回族: 3, 哈萨克族: 2 }),
  '640000': weighted({ 汉族: 64, 回族: 36 }),
  '630000': weighted({ 汉族: 51, 藏族: 25, 回族: 15, 土族: 4, 蒙古族: 3, 撒拉族: 2 }),
  '450000': weighted({ 汉族: 62, 壮族: 32, 瑶族: 3, 侗族: 2, 苗族: 1 }),
  '150000': weighted({ 汉族: 79, 蒙古族: 18, 满族: 2, 回族: 1 }),
  '530000': weighted({ 汉族: 66, 彝族: 11, 哈尼族: 4, 白族: 4, 傣族: 3, 壮族: 3, 苗族: 3, 回族: 2, 傈僳族: 2, 拉祜族: 2 }),
  '520000': weighted({ 汉族: 64, 苗族: 11, 布依族: 7, 土家族: 4, 侗族: 4, 彝族: 2, 水族: 1, 仡佬族: 1, 回族: 1 }),
  '460000': weighted({ 汉族: 83, 黎族: 15, 苗族: 1, 回族: 1 }),
  '430000': weighted({ 汉族: 90, 土家族: 4, 苗族: 3, 侗族: 1, 瑶族: 1, 回族: 1 }),
  '420000': weighted({ 汉族: 95, 土家族: 4, 回族: 1 }),
  '500000': weighted({ 汉族: 93, 土家族: 5, 苗族: 2 }),
  '510000': weighted({ 汉族: 94, 彝族: 3, 藏族: 2, 羌族: 1 }),
  '210000': weighted({ 汉族: 84, 满族: 13, 蒙古族: 1, 回族: 1, 朝鲜族: 1 }),
  '220000': weighted({ 汉族: 91, 朝鲜族: 4, 满族: 4, 回族: 1 }),
  '230000': weighted({ 汉族: 95, 满族: 3, 朝鲜族: 1, 回族: 1 }),
  '130000': weighted({ 汉族: 96, 满族: 3, 回族: 1 }),
  '620000': weighted({ 汉族: 91, 回族: 5, 藏族: 2, 东乡族: 2 }),
};

const BY_COUNTY: Record<string, WeightedList<string>> = {
  '653125': weighted({ 维吾尔族: 93, 汉族: 5, 塔吉克族: 1, 回族: 1 }),
  '653101': weighted({ 维吾尔族: 80, 汉族: 17, 回族: 2, 塔吉克族: 1 }),
  '650102': weighted({ 汉族: 58, 维吾尔族: 27, 回族: 9, 哈萨克族: 6 }),
};

/** The ethnicity of a family whose roots are in `county`. */
export function ethnicityFor(rng: Random, county: string): string {
  return (BY_COUNTY[county] ?? BY_PROVINCE[provinceCodeOfCounty(county)] ?? HAN_ONLY).pick(rng);
}
