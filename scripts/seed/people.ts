/**
 * Households (户) and their members: the population register everything
 * else hangs off. About one household in 25 is a collective household
 * (集体户) of a university or a company, the others are families.
 *
 * Household numbers (户号) run per province; ID numbers come from one
 * allocator so that they are unique across the run.
 */
import type { Day } from './calendar.js';
import { collectiveHousehold } from './collective-households.js';
import { familyHousehold } from './families.js';
import { type IdNumberAllocator, generatedHouseholdNumber } from './identifiers.js';
import type { Sex } from './names.js';
import type { OrganisationDirectory } from './organisations.js';
import { PROVINCES_BY_POPULATION } from './places.js';
import { randomCountyOf, type HouseholdContext, type HouseholdPlan } from './population.js';
import type { Random } from './random.js';

/** Generates households in a fixed order; each draws from its own random stream. */
export class HouseholdGenerator {
  /** Households numbered so far per province. */
  private readonly numbered = new Map<string, number>();
  private readonly context: HouseholdContext;

  constructor(ids: IdNumberAllocator, organisations: OrganisationDirectory) {
    this.context = {
      organisations,
      allocate(county: string, birth: Day, sex: Sex) {
        // Moves the birth a day earlier in the (never seen) case that day's 449 sequences are used up.
        for (let day = birth; ; day--) {
          const idNumber = ids.allocate(county, day, sex);
          if (idNumber) return { idNumber, birth: day };
        }
      },
    };
  }

  /**
   * The next generated household, with at most `maxPersons` person rows
   * (members plus deceased former members).
   */
  generate(rng: Random, maxPersons: number): HouseholdPlan {
    const province = PROVINCES_BY_POPULATION.pick(rng);
    const county = randomCountyOf(rng, province);
    const serial = this.numbered.get(province) ?? 0;
    this.numbered.set(province, serial + 1);
    const number = generatedHouseholdNumber(province, serial);
    if (rng.chance(0.04)) return collectiveHousehold(this.context, rng, number, county, maxPersons);
    return familyHousehold(this.context, rng, number, county, maxPersons);
  }
}
