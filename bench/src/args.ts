// Command line of `pnpm bench` (bench/run.sh passes its arguments through).
import { parseArgs } from 'node:util';

export const USAGE = `usage: pnpm bench [-- options]
  --size SIZE      dataset size, e.g. 256M, 2G (binary units; default 2G)
  --rounds N       interleaved rounds, one run of each tool per round (default 3)
  --skip-profile   no CPU profiles of our backup, restore and incremental (saves a few minutes)
  --startup-only   only the fixed cost of a run (exec to first S3 request, against a bare Node
                   start): the gateway and a minute, no dataset; prints it, writes no page
  --executable F   the btrfs-to-s3 to time for the fixed cost (default: the release's launcher
                   when scripts/release.sh built one, else apps/cli/bin/run.js)
  --report-only    regenerate docs/benchmark.md and the chart from --results; run nothing
  --results FILE   raw results JSON (default bench/results/latest.json)
  --docs DIR       where the page and chart go (default docs)
  --work DIR       scratch directory for the loop Btrfs and the gateway (bench/run.sh sets it)`;

export interface BenchArgs {
  readonly sizeBytes: number;
  readonly rounds: number;
  readonly reportOnly: boolean;
  readonly profile: boolean;
  readonly startupOnly: boolean;
  readonly executable?: string;
  readonly resultsPath?: string;
  readonly docsDir?: string;
  readonly workDir?: string;
}

export class UsageError extends Error {}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "2G", "256M", "1.5GiB", "1048576" to bytes (binary units). */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!match?.[1]) throw new UsageError(`--size: "${text}" is not a size (e.g. 256M, 2G)`);
  const bytes = Math.round(Number(match[1]) * (UNITS[(match[2] ?? '').toUpperCase()] ?? 1));
  if (bytes < 64 * 2 ** 20) throw new UsageError(`--size: ${text} is below the 64M minimum`);
  return bytes;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  // `pnpm bench -- --size 2G` may pass the separator through.
  const args = argv.filter((arg) => arg !== '--');
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        size: { type: 'string', default: '2G' },
        rounds: { type: 'string', default: '3' },
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
  if (values['report-only'] && values['startup-only'])
    throw new UsageError('--report-only runs nothing; --startup-only runs the start-up case');
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20)
    throw new UsageError(`--rounds: "${values.rounds}" is not a whole number from 1 to 20`);
  return {
    sizeBytes: parseSize(values.size),
    rounds,
    reportOnly: values['report-only'],
    profile: !values['skip-profile'],
    startupOnly: values['startup-only'],
    ...(values.executable === undefined ? {} : { executable: values.executable }),
    ...(values.results === undefined ? {} : { resultsPath: values.results }),
    ...(values.docs === undefined ? {} : { docsDir: values.docs }),
    ...(values.work === undefined ? {} : { workDir: values.work }),
  };
}
