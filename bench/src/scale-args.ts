// Command line of `pnpm bench:scale`.
import { parseArgs } from 'node:util';
import { UsageError } from './args';

export const SCALE_USAGE = `usage: pnpm bench:scale [-- options]
  --size SIZE                bytes streamed through the uploader (default 50G; 4G is a quick check)
  --chunk-size SIZE          chunk objects (default: a fifth of --size in whole parts, at most 10G)
  --part-size SIZE           parts of the main run (default: the config's default, 128M)
  --overhead-part-size SIZE  to split CPU into per-byte and per-part cost, pairs of short runs
                             follow: one in the main run's parts, one in these (default 8M)
  --overhead-size SIZE       bytes of each of those runs (default 2G, at most --size)
  --overhead-rounds N        pairs (default 3); the per-part cost is their median
  --skip-overhead            no pairs: no per-part cost and no 5 TiB model
  --warmup SECONDS           RSS is judged after this (default 60); a run with fewer than 5
                             samples after it (a quick check) is not judged
  --json FILE                also write the samples and results as JSON
Sizes take binary units: 512M, 4G, 50G.`;

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: MiB, G: GiB, T: 2 ** 40 };

export interface ScaleArgs {
  readonly sizeBytes: number;
  readonly chunkSizeBytes: number;
  readonly partSizeBytes: number;
  /** The pairs of short runs, one in `partSizeBytes` parts, one in `smallPartSizeBytes`; undefined with --skip-overhead. */
  readonly overhead:
    | { readonly sizeBytes: number; readonly chunkSizeBytes: number; readonly smallPartSizeBytes: number; readonly rounds: number }
    | undefined;
  readonly warmupSeconds: number;
  readonly jsonPath?: string;
}

/** "4G", "16M", "1.5GiB" to bytes. */
export function parseBytes(text: string, flag: string, minimum: number): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (match?.[1] === undefined) throw new UsageError(`--${flag}: "${text}" is not a size (e.g. 16M, 4G)`);
  const bytes = Math.round(Number(match[1]) * (UNITS[(match[2] ?? '').toUpperCase()] ?? 1));
  if (bytes < minimum) throw new UsageError(`--${flag}: ${text} is below the ${minimum / MiB}M minimum`);
  return bytes;
}

/** A fifth of the run in whole parts, at most 10 GiB and at least one part: several chunks, so chunk ends happen. */
export function defaultChunkSize(sizeBytes: number, partSizeBytes: number): number {
  const fifth = Math.floor(sizeBytes / 5 / partSizeBytes) * partSizeBytes;
  return Math.max(partSizeBytes, Math.min(10 * GiB, fifth));
}

export function parseScaleArgs(argv: readonly string[], defaultPartSizeBytes: number): ScaleArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv.filter((arg) => arg !== '--'),
      options: {
        size: { type: 'string', default: '50G' },
        'chunk-size': { type: 'string' },
        'part-size': { type: 'string' },
        'overhead-part-size': { type: 'string', default: '8M' },
        'overhead-size': { type: 'string', default: '2G' },
        'overhead-rounds': { type: 'string', default: '3' },
        'skip-overhead': { type: 'boolean', default: false },
        warmup: { type: 'string', default: '60' },
        json: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) throw new UsageError('');
  const sizeBytes = parseBytes(values.size, 'size', 256 * MiB);
  // S3's limits on parts; the config checks them again.
  const partSizeBytes = values['part-size'] === undefined ? defaultPartSizeBytes : parseBytes(values['part-size'], 'part-size', 5 * MiB);
  const chunkSizeBytes =
    values['chunk-size'] === undefined
      ? defaultChunkSize(sizeBytes, partSizeBytes)
      : parseBytes(values['chunk-size'], 'chunk-size', 5 * MiB);
  const warmupSeconds = Number(values.warmup);
  if (!Number.isFinite(warmupSeconds) || warmupSeconds < 0) throw new UsageError(`--warmup: "${values.warmup}" is not a number of seconds`);
  let overhead: ScaleArgs['overhead'];
  if (!values['skip-overhead']) {
    const smallPartSizeBytes = parseBytes(values['overhead-part-size'], 'overhead-part-size', 5 * MiB);
    if (smallPartSizeBytes >= partSizeBytes) throw new UsageError('--overhead-part-size must be smaller than the main run part size');
    const overheadSize = Math.min(sizeBytes, parseBytes(values['overhead-size'], 'overhead-size', 256 * MiB));
    const rounds = Number(values['overhead-rounds']);
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20)
      throw new UsageError(`--overhead-rounds: "${values['overhead-rounds']}" is not a whole number from 1 to 20`);
    // Chunk ends in the same proportion as the main run, so both runs of a pair mix first and later chunks alike.
    overhead = { sizeBytes: overheadSize, chunkSizeBytes: defaultChunkSize(overheadSize, partSizeBytes), smallPartSizeBytes, rounds };
  }
  return {
    sizeBytes,
    chunkSizeBytes,
    partSizeBytes,
    overhead,
    warmupSeconds,
    ...(values.json === undefined ? {} : { jsonPath: values.json }),
  };
}
