import type { ProfileSummary } from './profile';

// The raw results of one benchmark run, as written to bench/results/latest.json. The
// results page is rendered from this alone, so `--report-only` needs nothing else.

/** What /usr/bin/time -v says about one process (and the children it waited for). */
export interface ProcessUsage {
  readonly wallSeconds: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  readonly maxRssKiB: number;
}

/**
 * Every timed scenario. Peers read the benchmark's read-only snapshot; ours takes its own
 * snapshot of the same, unchanged subvolume.
 */
export type ToolId =
  | 'send' // btrfs send SNAP > /dev/null: the source limit
  | 'ours-backup' // btrfs-to-s3 backup --full, the whole dataset (also the 1x point of the scaling check)
  | 'aws-upload' // btrfs send SNAP | aws s3 cp -
  | 'rclone-upload' // btrfs send SNAP | rclone rcat
  | 'ours-restore' // btrfs-to-s3 restore --verify none
  | 'ours-restore-sample' // btrfs-to-s3 restore --verify sample
  | 'aws-restore' // aws s3 cp s3://... - | btrfs receive
  | 'scale-0.25' // btrfs-to-s3 backup --full of a quarter of the dataset
  | 'scale-0.5' // ... of half of it
  | 'inc-full' // the full before the 5% change (incremental check)
  | 'inc' // btrfs-to-s3 backup --once after the change: an incremental
  | 'sealed-backup' // btrfs-to-s3 backup --full with zstd and age, the whole (incompressible) dataset
  | 'sealed-restore'; // ... and its restore --verify none

export interface RunRecord {
  readonly tool: ToolId;
  /** Round (or repetition of the incremental check), from 1. */
  readonly round: number;
  /** Wall time of the whole run (the pipeline for peers), measured by the harness. */
  readonly wallSeconds: number;
  /** Bytes of the `btrfs send` stream the run moved. */
  readonly streamBytes: number;
  /**
   * The measured process: ours (with the `btrfs send`/`receive` it runs and waits for), or a
   * peer's uploader/downloader alone.
   */
  readonly main: ProcessUsage;
  /** A pipeline's other side: `btrfs send` feeding a peer, or `btrfs receive` after it. */
  readonly source?: ProcessUsage;
  /** CPU seconds the gateway (radosgw, OSD, monitor) spent during the run. */
  readonly gatewayCpuSeconds?: number;
  /** Share of all cores' time the whole machine was busy during the run (others' work included). */
  readonly machineBusy?: number;
  /** Incremental check: bytes changed in the dataset before this run. */
  readonly changedBytes?: number;
}

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly kernel: string;
  readonly os: string;
  readonly node: string;
  readonly btrfsProgs: string;
  readonly awscli: string;
  readonly rclone: string;
  readonly ceph: string;
  /** 1-minute load average when the run started and when it ended (others share the machine). */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

export interface ScalePoint {
  readonly tool: Extract<ToolId, 'scale-0.25' | 'scale-0.5' | 'ours-backup'>;
  readonly label: string;
  readonly fraction: number;
  readonly subvolume: string;
  /** Bytes of file data in the subvolume. */
  readonly bytes: number;
}

export interface Dataset {
  readonly bytes: number;
  readonly largeFiles: number;
  readonly largeBytes: number;
  readonly smallFiles: number;
  readonly smallBytes: number;
  /** Length of `btrfs send` of the benchmark snapshot. */
  readonly streamBytes: number;
  readonly generateSeconds: number;
  readonly scaling: readonly ScalePoint[];
}

export interface Settings {
  readonly sizeBytes: number;
  readonly rounds: number;
  readonly partSizeBytes: number;
  readonly concurrency: number;
  readonly chunkSizeBytes: number;
  readonly memstoreBytes: number;
}

/** One extra, untimed run of ours under `node --cpu-prof`: where its time goes. */
export interface ProfiledRun {
  readonly tool: Extract<ToolId, 'ours-backup' | 'ours-restore' | 'inc'>;
  readonly wallSeconds: number;
  readonly streamBytes: number;
  readonly summary: ProfileSummary;
}

/** One timed run of the start-up case (startup.ts), and the bare Node start just before it. */
export interface StartupRun {
  /** From exec until the first bytes of its first S3 request reached the gateway. */
  readonly firstRequestSeconds: number;
  /** From exec until it exited. */
  readonly wallSeconds: number;
  /** A bare `node -e 0` of the Node our executable runs on. */
  readonly bareNodeSeconds: number;
}

/** The fixed cost of a run: `list` on an empty prefix, exec to its first S3 request. */
export interface StartupResult {
  /** The release's launcher (scripts/release.sh built one), the checkout's bin/run.js, or --executable. */
  readonly kind: 'release' | 'checkout' | 'given';
  readonly executable: string;
  /** Our command line after the executable. */
  readonly command: string;
  readonly runs: readonly StartupRun[];
}

export interface Results {
  readonly schema: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly machine: Machine;
  readonly settings: Settings;
  readonly dataset: Dataset;
  readonly runs: readonly RunRecord[];
  readonly profiles?: readonly ProfiledRun[];
  readonly startup?: StartupResult;
  /** One zstd backup of text-heavy data: what it stores of its send stream. */
  readonly compression?: CompressionResult;
}

export interface CompressionResult {
  /** The text written to the subvolume. */
  readonly textBytes: number;
  readonly streamBytes: number;
  readonly storedBytes: number;
}

/** The bound every backup's peak RSS must stay within (issue 8). */
export function rssBoundBytes(settings: Pick<Settings, 'concurrency' | 'partSizeBytes'>): number {
  return settings.concurrency * settings.partSizeBytes + 100 * 1024 * 1024;
}
