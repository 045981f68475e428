import { bindingMatches } from '../../common/documents/holder-binding.js';
import { idNumberCheckChar } from '../../common/identifiers.js';

/**
 * What whoever holds a document can try without any key: every ID number
 * the masked form allows — the two hidden area digits and every birth date
 * of the year (narrowed to one year so that the test runs in a second; the
 * real space is about a hundred times larger) with the visible check
 * character — tested against the binding as format 1 makes it.
 */
export function bruteForce(idMasked: string, salt: string, binding: string, year: string) {
  const [head, tail] = [idMasked.slice(0, 4), idMasked.slice(14)];
  const candidates: string[] = [];
  const found: string[] = [];
  for (let area = 0; area < 100; area++) {
    for (let day = new Date(`${year}-01-01T00:00:00Z`); day.getUTCFullYear() === Number(year); day = new Date(day.getTime() + 86_400_000)) {
      const first17 = `${head}${String(area).padStart(2, '0')}${day.toISOString().slice(0, 10).replaceAll('-', '')}${tail.slice(0, 3)}`;
      if (idNumberCheckChar(first17) !== tail[3]) continue;
      const candidate = `${first17}${tail[3]}`;
      candidates.push(candidate);
      if (bindingMatches(binding, salt, candidate)) found.push(candidate);
    }
  }
  return { candidates, found };
}
