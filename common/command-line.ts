/**
 * The command lines of the npm scripts, parsed one way: Node's
 * `util.parseArgs` in strict mode, with `--help` / `-h` added to every
 * script. A script reads its command line before it does anything else, so
 * that `--help` prints the usage (stdout, exit 0) and does nothing more, and
 * an unknown option or a missing value prints the problem and the usage
 * (stderr, exit 2) and does nothing more either.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** What a script's command line may hold. */
export interface CommandLineSpec<O extends OptionsConfig, P extends boolean = false> {
  /** The npm script's name (`token:revoke`): the prefix of its messages. */
  name: string;
  /** The usage text, `usage: npm run <name> -- …`; printed for `--help` and after every usage error. */
  usage: string;
  /** The options (`--help`/`-h` is added); use `as const` so that the values are typed. */
  options: O;
  /** Whether the script takes positional arguments. Default false: any is refused. */
  allowPositionals?: P;
}

type ParseConfig<O extends OptionsConfig, P extends boolean> = {
  args: string[];
  options: O & typeof HELP_OPTION;
  strict: true;
  allowPositionals: P;
};

/** The values and positionals of a command line, typed from its spec. */
export type ParsedCommandLine<O extends OptionsConfig, P extends boolean = false> = ReturnType<typeof parseArgs<ParseConfig<O, P>>>;

/** A command line that is not understood: an unknown option, a missing or bad value, a stray argument. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/**
 * Parses `argv` strictly against the spec. Returns 'help' when `--help` or
 * `-h` is given (checked before anything the script validates itself).
 * @throws {UsageError} for an unknown option, a missing value or, unless allowed, a positional argument.
 */
export function parseCommandLine<const O extends OptionsConfig, const P extends boolean = false>(
  spec: CommandLineSpec<O, P>,
  argv: readonly string[],
): ParsedCommandLine<O, P> | 'help' {
  let parsed: ParsedCommandLine<O, P>;
  try {
    parsed = parseArgs<ParseConfig<O, P>>({
      args: [...argv],
      options: { ...spec.options, ...HELP_OPTION },
      strict: true,
      allowPositionals: (spec.allowPositionals ?? false) as P,
    });
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  return (parsed.values as { help?: boolean }).help === true ? 'help' : parsed;
}

/**
 * For a script's first lines: parses its command line and hands it to
 * `interpret` (which checks values and throws {@link UsageError} for a bad
 * one). For `--help` prints the usage on stdout and exits 0; for a usage
 * error prints it and the usage on stderr and exits 2; so nothing else
 * happens in either case. Returns what `interpret` returns.
 */
export function readCommandLine<const O extends OptionsConfig, const P extends boolean = false, T = ParsedCommandLine<O, P>>(
  spec: CommandLineSpec<O, P>,
  interpret: (parsed: ParsedCommandLine<O, P>) => T = (parsed) => parsed as unknown as T,
  argv: readonly string[] = process.argv.slice(2),
): T {
  try {
    const parsed = parseCommandLine(spec, argv);
    if (parsed === 'help') exitWithHelp(spec);
    return interpret(parsed);
  } catch (error) {
    if (error instanceof UsageError) exitWithUsage(spec, error.message);
    throw error;
  }
}

/** Prints the usage on stdout and exits 0: the answer to `--help` and `-h`. */
export function exitWithHelp(spec: Pick<CommandLineSpec<OptionsConfig>, 'usage'>): never {
  process.stdout.write(`${spec.usage}\n`);
  process.exit(0);
}

/** Prints `<name>: <message>` and the usage on stderr and exits 2: for a value the script checks after parsing. */
export function exitWithUsage(spec: Pick<CommandLineSpec<OptionsConfig>, 'name' | 'usage'>, message: string): never {
  process.stderr.write(`${spec.name}: ${message}\n${spec.usage}\n`);
  process.exit(2);
}

/** A whole number of at least `min` from an option's text, or `fallback` when it was not given. @throws {UsageError} */
export function integerOption(value: string | undefined, option: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min) {
    throw new UsageError(`--${option} must be a whole number of at least ${min}, got ${JSON.stringify(value)}`);
  }
  return number;
}
