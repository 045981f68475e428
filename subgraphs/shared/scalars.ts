import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

function scalar(name: string, pattern: RegExp, isReal: (s: string) => boolean, example: string): GraphQLScalarType {
  const parse = (value: unknown): string => {
    if (typeof value !== 'string' || !pattern.test(value) || !isReal(value)) {
      throw new GraphQLError(`${name} must be a string like ${example}.`, { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return value;
  };
  return new GraphQLScalarType({
    name,
    serialize: (value) => value,
    parseValue: parse,
    parseLiteral: (ast) => parse(ast.kind === Kind.STRING ? ast.value : undefined),
  });
}

function isRealDate(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** ISO 8601 calendar date (YYYY-MM-DD); stored as such in every store. */
export const DateScalar = scalar('Date', /^\d{4}-\d{2}-\d{2}$/, isRealDate, '2024-05-31');

/** ISO 8601 calendar month (YYYY-MM). */
export const YearMonthScalar = scalar('YearMonth', /^\d{4}-\d{2}$/, (s) => isRealDate(`${s}-01`), '2024-05');

/** Formats integer fen as a yuan decimal string with two places: 123456 → "1234.56". */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
