/** Every field of a person, across the five domains: the dossier an approval system reads. */
export const FULL_DOSSIER = /* GraphQL */ `
  query Dossier($id: ID!) {
    person(idNumber: $id) {
      idNumber name sex birthDate ethnicity birthPlace { code fullName }
      registration { relationToHead status address { full region { provinceName } } authority { name }
        household { number type members { relationToHead person { name } } } }
      migrations { direction date reason counterpartRegion { fullName } }
      socialInsurance {
        cardNumber currentAgency { name }
        enrolments { insuranceType category status region { fullName } agency { name } enrolledOn endedOn employer { name } }
        contributions { insuranceType from to months monthlyBase personalMonthly employerMonthly status region { provinceName } }
        contributionMonths
      }
      providentFundAccounts { accountNumber status balance centre { name } employer { name } deposits(last: 6) { month amount } }
      credit { dishonestJudgmentDebtor activeNegativeRecords records { category status title documentNumber authority { name } } }
      licences { identifier type title number status issuer { name } validUntil attributes { name value } history { kind date } }
    }
  }
`;
