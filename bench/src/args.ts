// Command line of `pnpm bench` (bench/run.sh passes its arguments through).
import { parseArgs } from 'node:util';
import { formatRate, parseMilliseconds, parseRate, RateError } from './rate';

export const USAGE = `usage: pnpm bench [-- options]
  --sizes LIST     dataset sizes, e.g. 768M,2G (binary units; default 768M,2G); --size SIZE: one size
  --rounds N       interleaved rounds, one run of each tool per round (default 3)
  --skip-profile   no CPU profiles of our backup, restore and incremental (saves a minute or two)
  --tuned-part-size SIZE, --tuned-concurrency N
                   our tuned settings (default 128M and 4, with checksum_mode = "when_required")
  --link-rates LIST
                   rates of the shaped link the client sits behind (default 100Mbit,500Mbit)
  --link-rounds N  rounds of the rate-limited and the rate cap runs (default 1)
  --link-rtt MS    round trip added by a delay relay in front of the gateway (default 0: none)
  --cap-rate RATE  the upload rate cap to check (default 80Mbit; each run lasts over a minute)
  --skip-link, --skip-cap
                   leave out the rate-limited runs, the rate cap runs
  --link-only, --cap-only
                   only those runs, on the smallest size: prints them, writes no page
  --startup-only   only the fixed cost of a run (exec to first S3 request, against a bare Node
                   start): the gateway and a minute, no dataset; prints it, writes no page
  --executable F   the btrfs-to-s3 to time for the fixed cost (default: the release's launcher
                   when scripts/release.sh built one, else apps/cli/bin/run.js)
  --report-only    regenerate docs/benchmark.md and the chart from --results; run nothing
  --results FILE   raw results JSON (default bench/results/latest.json; link.json, cap.json for
                   --link-only, --cap-only)
  --docs DIR       where the page and chart go (default docs)
  --work DIR       scratch directory for the loop Btrfs and the gateway (bench/run.sh sets it)`;

/** What a run measures: everything, one part alone, or nothing (render the page again). */
export type Mode = 'all' | 'link-only' | 'cap-only' | 'startup-only' | 'report-only';

export interface BenchArgs {
  readonly mode: Mode;
  /** Dataset sizes in bytes, smallest first. */
  readonly sizes: readonly { readonly id: string; readonly bytes: number }[];
  readonly rounds: number;
  readonly profile: boolean;
  readonly tuned: { readonly partSizeBytes: number; readonly concurrency: number };
  /** Empty when the rate-limited runs are left out. */
  readonly linkRatesBitsPerSecond: readonly number[];
  readonly linkRounds: number;
  readonly linkRttMs: number;
  /** Undefined when the rate cap runs are left out. */
  readonly cap?: { readonly text: string; readonly bytesPerSecond: number };
  readonly executable?: string;
  readonly resultsPath?: string;
  readonly docsDir?: string;
  readonly workDir?: string;
}

export class UsageError extends Error {}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
const MiB = 2 ** 20;

/** "2G", "256M", "1.5GiB", "1048576" to bytes (binary units). */
export function parseSize(text: string, flag = '--size', minimum = 64 * MiB): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!match?.[1]) throw new UsageError(`${flag}: "${text}" is not a size (e.g. 256M, 2G)`);
  const bytes = Math.round(Number(match[1]) * (UNITS[(match[2] ?? '').toUpperCase()] ?? 1));
  if (bytes < minimum) throw new UsageError(`${flag}: ${text} is below the ${minimum / MiB}M minimum`);
  return bytes;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function wholeNumber(text: string, flag: string, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new UsageError(`${flag}: "${text}" is not a whole number from 1 to ${max}`);
  return value;
}

function rate(text: string, flag: string): number {
  try {
    return parseRate(text);
  } catch (error) {
    if (error instanceof RateError) throw new UsageError(`${flag}: ${error.message}`);
    throw error;
  }
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  // `pnpm bench -- --size 2G` may pass the separator through.
  const args = argv.filter((arg) => arg !== '--');
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        size: { type: 'string' },
        sizes: { type: 'string' },
        rounds: { type: 'string', default: '3' },
        'tuned-part-size': { type: 'string', default: '128M' },
        'tuned-concurrency': { type: 'string', default: '4' },
        'link-rates': { type: 'string', default: '100Mbit,500Mbit' },
        'link-rounds': { type: 'string', default: '1' },
        'link-rtt': { type: 'string', default: '0' },
        'cap-rate': { type: 'string', default: '80Mbit' },
        'skip-link': { type: 'boolean', default: false },
        'skip-cap': { type: 'boolean', default: false },
        'link-only': { type: 'boolean', default: false },
        'cap-only': { type: 'boolean', default: false },
        'report-only': { type: 'boolean', default: false },
        'skip-profile': { type: 'boolean', default: false },
        'startup-only': { type: 'boolean', default: false },
        executable: { type: 'string' },
        results: { type: 'string' },
        docs: { type: 'string' },
        work: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) throw new UsageError('');
  const modes = (['report-only', 'startup-only', 'link-only', 'cap-only'] as const).filter((mode) => values[mode]);
  if (modes.length > 1) throw new UsageError(`--${modes.join(' and --')} exclude each other`);
  const mode: Mode = modes[0] ?? 'all';
  if ((values['skip-link'] && mode === 'link-only') || (values['skip-cap'] && mode === 'cap-only'))
    throw new UsageError(`--${mode} with --skip-${mode === 'link-only' ? 'link' : 'cap'} leaves nothing to run`);
  if (values.size !== undefined && values.sizes !== undefined) throw new UsageError('--size and --sizes exclude each other');

  const sizeTexts = list(values.sizes ?? values.size ?? '768M,2G');
  if (sizeTexts.length === 0 || sizeTexts.length > 3) throw new UsageError(`--sizes: give one to three sizes, got "${values.sizes ?? ''}"`);
  const sizes = sizeTexts.map((text) => ({ id: text, bytes: parseSize(text, values.sizes === undefined ? '--size' : '--sizes') }));
  sizes.sort((a, b) => a.bytes - b.bytes);
  if (new Set(sizes.map((size) => size.bytes)).size !== sizes.length) throw new UsageError('--sizes: give each size once');

  const linkRates = values['skip-link'] || mode === 'cap-only' ? [] : list(values['link-rates']).map((text) => rate(text, '--link-rates'));
  if (mode !== 'cap-only' && !values['skip-link'] && linkRates.length === 0) throw new UsageError('--link-rates: give at least one rate');
  let linkRttMs;
  try {
    linkRttMs = parseMilliseconds(values['link-rtt']);
  } catch (error) {
    if (error instanceof RateError) throw new UsageError(`--link-rtt: ${error.message}`);
    throw error;
  }
  const capBytes = rate(values['cap-rate'], '--cap-rate');
  const withCap = !values['skip-cap'] && mode !== 'link-only';
  return {
    mode,
    sizes,
    rounds: wholeNumber(values.rounds, '--rounds', 20),
    profile: !values['skip-profile'],
    tuned: {
      partSizeBytes: parseSize(values['tuned-part-size'], '--tuned-part-size', 5 * MiB),
      concurrency: wholeNumber(values['tuned-concurrency'], '--tuned-concurrency', 64),
    },
    linkRatesBitsPerSecond: linkRates.map((bytes) => Math.round(bytes * 8)),
    linkRounds: wholeNumber(values['link-rounds'], '--link-rounds', 10),
    linkRttMs,
    ...(withCap ? { cap: { text: values['cap-rate'], bytesPerSecond: capBytes } } : {}),
    ...(values.executable === undefined ? {} : { executable: values.executable }),
    ...(values.results === undefined ? {} : { resultsPath: values.results }),
    ...(values.docs === undefined ? {} : { docsDir: values.docs }),
    ...(values.work === undefined ? {} : { workDir: values.work }),
  };
}

/** One line saying what a run with these arguments will do. */
export function describePlan(args: BenchArgs): string {
  const sizes = args.sizes.map((size) => size.id).join(', ');
  const parts: string[] = [];
  if (args.mode === 'all') parts.push(`comparison at ${sizes}, ${args.rounds} round(s)`);
  if (args.linkRatesBitsPerSecond.length > 0 && (args.mode === 'all' || args.mode === 'link-only'))
    parts.push(
      `rate-limited runs at ${args.linkRatesBitsPerSecond.map((bits) => formatRate(bits / 8)).join(', ')}${args.linkRttMs > 0 ? ` with ${args.linkRttMs} ms added round trip` : ''}, ${args.linkRounds} round(s)`,
    );
  if (args.cap !== undefined && (args.mode === 'all' || args.mode === 'cap-only'))
    parts.push(`rate cap ${formatRate(args.cap.bytesPerSecond)}`);
  return parts.join('; ');
}
