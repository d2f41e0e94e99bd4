// Results of a whole benchmark run, made up for the report's tests: two datasets (S, 1 GiB of
// stream; L, 2 GiB), every tool three rounds, rate-limited runs at 100 and 500 Mbit/s and the
// rate cap. By default every target passes; the overrides move one figure at a time.
import type { CapRecord, LinkRecord, Results, RunRecord, ToolId } from '../results';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const STREAMS = { S: GiB, L: 2 * GiB } as const;
export type DatasetId = keyof typeof STREAMS;

/** Wall seconds of the three rounds, per tool; `tool@S` overrides one dataset. */
type PerTool<T> = Partial<Record<ToolId | `${ToolId}@${DatasetId}`, T>>;

export interface Overrides {
  readonly walls?: PerTool<readonly [number, number, number]>;
  /** Peak RSS MiB of the first round (then +1, +2). */
  readonly rss?: PerTool<number>;
  /** CPU seconds of the measured process in the first round (then +1, +2). */
  readonly cpu?: PerTool<number>;
  /** Share of the link rate per rate (bits) and tool. */
  readonly shares?: Partial<Record<number, Partial<Record<'ours-backup' | 'aws-upload' | 'rclone-upload', number>>>>;
  /** Steady rate / cap - 1 per tool. */
  readonly capOff?: Partial<Record<CapRecord['tool'], number>>;
  /** Seconds each capped upload sends at its steady rate. */
  readonly capSeconds?: number;
}

const WALLS: Partial<Record<ToolId, readonly [number, number, number]>> = {
  send: [2.5, 2.4, 2.6],
  'ours-backup': [10, 11, 12],
  'ours-backup-tuned': [10, 10.5, 11],
  'aws-upload': [14, 13, 15],
  'rclone-upload': [18, 17, 19],
  'aws-upload-matched': [13, 13, 13],
  'rclone-upload-matched': [16, 16, 16],
  'ours-restore': [8, 9, 10],
  'ours-restore-verify': [12, 13, 14],
  'aws-restore': [12, 12.5, 13],
};
const ON_S: Partial<Record<ToolId, readonly [number, number, number]>> = { 'sealed-backup': [12, 13, 14], 'sealed-restore': [10, 11, 12] };
const ON_L: Partial<Record<ToolId, readonly [number, number, number]>> = {
  'scale-0.25': [3, 3.1, 3.2],
  'inc-full': [10, 10.5, 11],
  inc: [0.9, 1, 1.1],
  'inc-empty': [0.6, 0.65, 0.7],
  'aws-inc-empty': [0.7, 0.7, 0.75],
};

function pick<T>(map: PerTool<T> | undefined, tool: ToolId, dataset: DatasetId): T | undefined {
  return map?.[`${tool}@${dataset}`] ?? map?.[tool];
}

const PIPELINE: ReadonlySet<ToolId> = new Set([
  'aws-upload',
  'rclone-upload',
  'aws-upload-matched',
  'rclone-upload-matched',
  'aws-restore',
  'aws-inc-empty',
]);

function streamOf(tool: ToolId, dataset: DatasetId): number {
  const stream = STREAMS[dataset];
  if (tool === 'scale-0.25') return stream / 4;
  if (tool === 'inc') return stream / 20;
  if (tool === 'inc-empty' || tool === 'aws-inc-empty') return 8192;
  return stream;
}

function comparison(o: Overrides): RunRecord[] {
  const runs: RunRecord[] = [];
  for (const dataset of ['S', 'L'] as const) {
    const tools = { ...WALLS, ...(dataset === 'S' ? ON_S : ON_L) };
    for (const [name, defaults] of Object.entries(tools)) {
      const tool = name as ToolId;
      const walls = pick(o.walls, tool, dataset) ?? defaults;
      if (walls === undefined) continue;
      walls.forEach((wall, index) => {
        runs.push({
          tool,
          dataset,
          round: index + 1,
          wallSeconds: wall,
          streamBytes: streamOf(tool, dataset),
          main: {
            wallSeconds: wall,
            userSeconds: (pick(o.cpu, tool, dataset) ?? (tool.startsWith('aws') ? 10 : 5)) + index,
            systemSeconds: 0,
            maxRssKiB: ((pick(o.rss, tool, dataset) ?? 300) + index) * 1024,
          },
          ...(PIPELINE.has(tool) ? { source: { wallSeconds: wall, userSeconds: 0.5, systemSeconds: 1, maxRssKiB: 4096 } } : {}),
          gatewayCpuSeconds: 10,
          machineBusy: 0.9,
          ...(tool === 'inc' ? { changedBytes: STREAMS[dataset] / 20 } : {}),
        });
      });
    }
  }
  return runs;
}

const SHARES: Record<number, Record<'ours-backup' | 'aws-upload' | 'rclone-upload', number>> = {
  100e6: { 'ours-backup': 0.94, 'aws-upload': 0.8, 'rclone-upload': 0.92 },
  500e6: { 'ours-backup': 0.93, 'aws-upload': 0.6, 'rclone-upload': 0.7 },
};

function linkRuns(o: Overrides): LinkRecord[] {
  const runs: LinkRecord[] = [];
  for (const [rateText, shares] of Object.entries(SHARES)) {
    const rate = Number(rateText);
    for (const [name, share] of Object.entries(shares)) {
      const tool = name as keyof typeof shares;
      const s = o.shares?.[rate]?.[tool] ?? share;
      const wall = (STREAMS.S * 8) / (s * rate);
      runs.push({
        tool,
        dataset: 'S',
        round: 1,
        wallSeconds: wall,
        streamBytes: STREAMS.S,
        main: { wallSeconds: wall, userSeconds: 8, systemSeconds: 0, maxRssKiB: 200 * 1024 },
        rateBitsPerSecond: rate,
        rttMs: 0,
        linkBytes: STREAMS.S * 1.04,
      });
    }
  }
  return runs;
}

const CAP = 10e6;

function capRuns(o: Overrides): CapRecord[] {
  const seconds = o.capSeconds ?? 80;
  return (['ours-backup', 'rclone-upload', 'restic-upload'] as const).map((tool) => {
    const rate = CAP * (1 + (o.capOff?.[tool] ?? (tool === 'ours-backup' ? 0.01 : 0.03)));
    const samples = [{ ms: 0, bytes: 0 }];
    // A second of start-up, then the steady rate, then a second of nothing.
    for (let t = 1; t <= seconds + 2; t++) samples.push({ ms: t * 1000, bytes: Math.round(rate * Math.min(seconds, Math.max(0, t - 1))) });
    return {
      tool,
      round: 1,
      capBytesPerSecond: CAP,
      option:
        tool === 'ours-backup' ? '--max-upload-rate 80Mbit' : tool === 'rclone-upload' ? '--bwlimit 10000000B' : '--limit-upload 9766',
      wallSeconds: seconds + 2,
      streamBytes: rate * seconds,
      main: { wallSeconds: seconds + 2, userSeconds: 3, systemSeconds: 0, maxRssKiB: 100 * 1024 },
      samples,
    };
  });
}

export function results(o: Overrides = {}): Results {
  const ours = { partSizeBytes: 128 * MiB, concurrency: 4, chunkSizeBytes: 200 * GiB, checksumMode: 'when_supported' };
  return {
    schema: 2,
    startedAt: '2026-12-07T12:00:00.000Z',
    finishedAt: '2026-12-07T12:40:00.000Z',
    durationSeconds: 2400,
    machine: {
      cpuModel: 'AMD EPYC',
      cores: 2,
      memoryBytes: 24 * GiB,
      kernel: '6.1.0',
      os: 'Debian GNU/Linux 12 (bookworm)',
      node: 'v20.20.2',
      btrfsProgs: 'btrfs-progs v6.2',
      awscli: 'aws-cli/2.9.19',
      rclone: 'rclone v1.60.1-DEV',
      restic: 'restic 0.14.0',
      ceph: 'ceph version 16.2.15 pacific (stable)',
      loadAverage: { start: 1.5, end: 2.5 },
    },
    settings: {
      rounds: 3,
      defaults: ours,
      tuned: { ...ours, checksumMode: 'when_required' },
      awsDefaults: { partSizeBytes: 8 * MiB, concurrency: 10 },
      rcloneDefaults: { partSizeBytes: 5 * MiB, concurrency: 4 },
      matched: { partSizeBytes: 128 * MiB, concurrency: 4 },
      memstoreBytes: 6 * GiB,
    },
    datasets: (['S', 'L'] as const).map((id) => ({
      id,
      sizeBytes: STREAMS[id],
      bytes: STREAMS[id],
      largeFiles: 10,
      largeBytes: 0.8 * STREAMS[id],
      smallFiles: 6000,
      smallBytes: 0.2 * STREAMS[id],
      streamBytes: STREAMS[id],
      generateSeconds: 4,
    })),
    scaling: [
      { tool: 'scale-0.25', dataset: 'L', label: '0.25x L', subvolume: 'data-quarter', bytes: STREAMS.L / 4 },
      { tool: 'ours-backup', dataset: 'S', label: 'S', subvolume: 'data-S', bytes: STREAMS.S },
      { tool: 'ours-backup', dataset: 'L', label: 'L', subvolume: 'data-L', bytes: STREAMS.L },
    ],
    runs: comparison(o),
    link: { settings: { ratesBitsPerSecond: [100e6, 500e6], rounds: 1, rttMs: 0, dataset: 'S' }, runs: linkRuns(o) },
    cap: { settings: { bytesPerSecond: CAP, text: '80Mbit', dataset: 'S' }, runs: capRuns(o) },
    compression: { textBytes: 64 * MiB, streamBytes: 65 * MiB, storedBytes: 20 * MiB },
  };
}
