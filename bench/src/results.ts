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
 * snapshot of the same, unchanged subvolume. "Defaults" is what a user gets without tuning:
 * the README's config for ours, the tools' own defaults for the peers (the targets are
 * against these); "matched" peers use our part size and concurrency, for diagnosis.
 */
export type ToolId =
  | 'send' // btrfs send SNAP > /dev/null: the source limit
  | 'ours-backup' // btrfs-to-s3 backup --full, the README's config (also a point of the scaling check)
  | 'ours-backup-tuned' // ... with the tuned settings (Settings.tuned)
  | 'aws-upload' // btrfs send SNAP | aws s3 cp -, awscli's defaults
  | 'aws-upload-matched' // ... with our part size and concurrency
  | 'rclone-upload' // btrfs send SNAP | rclone rcat, rclone's defaults
  | 'rclone-upload-matched' // ... with our part size and concurrency
  | 'restic-upload' // btrfs send SNAP | restic backup --stdin (the rate cap's anchor only)
  | 'ours-restore' // btrfs-to-s3 restore --verify none
  | 'ours-restore-verify' // btrfs-to-s3 restore with the default verification (restore.verify_mode)
  | 'aws-restore' // aws s3 cp s3://... - | btrfs receive
  | 'scale-0.25' // btrfs-to-s3 backup --full of a quarter of the largest dataset
  | 'inc-full' // the full before the 5% change (incremental check)
  | 'inc' // btrfs-to-s3 backup --once after the change: an incremental
  | 'inc-empty' // btrfs-to-s3 backup --once after a one-file change: a near-empty incremental
  | 'aws-inc-empty' // btrfs send -p PARENT SNAP | aws s3 cp - of the same change
  | 'sealed-backup' // btrfs-to-s3 backup --full with zstd and age, the whole (incompressible) dataset
  | 'sealed-restore'; // ... and its restore --verify none

export interface RunRecord {
  readonly tool: ToolId;
  /** The dataset it moved (DatasetInfo.id). */
  readonly dataset: string;
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
  /** When the rate cap was measured (restic is its anchor). */
  readonly restic?: string;
  readonly ceph: string;
  /** 1-minute load average when the run started and when it ended (others share the machine). */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

/** A full backup of a subvolume of some size: the scaling check's points. */
export interface ScalePoint {
  readonly tool: Extract<ToolId, 'scale-0.25' | 'ours-backup'>;
  readonly dataset: string;
  readonly label: string;
  readonly subvolume: string;
  /** Bytes of file data in the subvolume. */
  readonly bytes: number;
}

/** One generated dataset: a subvolume of its own, and the read-only snapshot the peers send. */
export interface DatasetInfo {
  /** As given to --sizes ("768M", "2G"); runs name it. */
  readonly id: string;
  readonly sizeBytes: number;
  readonly bytes: number;
  readonly largeFiles: number;
  readonly largeBytes: number;
  readonly smallFiles: number;
  readonly smallBytes: number;
  /** Length of `btrfs send` of the benchmark snapshot. */
  readonly streamBytes: number;
  readonly generateSeconds: number;
}

/** What one of our configs comes to, from `config show --json`. */
export interface OurSettings {
  readonly partSizeBytes: number;
  readonly concurrency: number;
  readonly chunkSizeBytes: number;
  readonly checksumMode: string;
}

/** A peer's part size and concurrency (for the defaults: the tool's own, as documented; the run sets none). */
export interface PeerSettings {
  readonly partSizeBytes: number;
  readonly concurrency: number;
}

export interface Settings {
  readonly rounds: number;
  /** The README's config (ours-backup, the restores, scaling, incremental, sealed). */
  readonly defaults: OurSettings;
  /** ours-backup-tuned. */
  readonly tuned: OurSettings;
  readonly awsDefaults: PeerSettings;
  readonly rcloneDefaults: PeerSettings;
  /** aws-upload-matched and rclone-upload-matched. */
  readonly matched: PeerSettings;
  readonly memstoreBytes: number;
  /** What ran as ours (the release's launcher, normally); absent in results from before it was recorded. */
  readonly executable?: string;
}

/** A full backup (or a peer's upload) from a client behind a shaped link. */
export interface LinkRecord extends RunRecord {
  /** The link's rate (tbf on the client's end of the veth), bits per second. */
  readonly rateBitsPerSecond: number;
  /** Round trip added by the delay relay; 0 when the client reached the gateway directly. */
  readonly rttMs: number;
  /** Bytes the gateway's end of the veth received (payload, HTTP, TCP/IP and Ethernet headers). */
  readonly linkBytes: number;
}

export interface LinkSettings {
  readonly ratesBitsPerSecond: readonly number[];
  readonly rounds: number;
  readonly rttMs: number;
  /** The dataset the link runs back up. */
  readonly dataset: string;
}

/** One upload with a rate cap, through a counting relay on an unshaped path. */
export interface CapRecord {
  readonly tool: Extract<ToolId, 'ours-backup' | 'rclone-upload' | 'restic-upload'>;
  readonly round: number;
  /** The cap as the tool was given it, bytes per second (restic takes whole KiB/s). */
  readonly capBytesPerSecond: number;
  /** The option as passed. */
  readonly option: string;
  readonly wallSeconds: number;
  readonly streamBytes: number;
  readonly main: ProcessUsage;
  /** The `btrfs send` feeding a peer. */
  readonly source?: ProcessUsage;
  /** Cumulative bytes the relay read from the tool, about once a second. */
  readonly samples: readonly { readonly ms: number; readonly bytes: number }[];
}

export interface CapSettings {
  /** The cap asked for, bytes per second, and as written (`--cap-rate`). */
  readonly bytesPerSecond: number;
  readonly text: string;
  readonly dataset: string;
}

/** One extra, untimed run of ours under `node --cpu-prof`: where its time goes. */
export interface ProfiledRun {
  readonly tool: Extract<ToolId, 'ours-backup' | 'ours-restore' | 'inc'>;
  readonly dataset: string;
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
  readonly schema: 2;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly machine: Machine;
  readonly settings: Settings;
  /** Smallest first. */
  readonly datasets: readonly DatasetInfo[];
  readonly scaling: readonly ScalePoint[];
  readonly runs: readonly RunRecord[];
  readonly link?: { readonly settings: LinkSettings; readonly runs: readonly LinkRecord[] };
  readonly cap?: { readonly settings: CapSettings; readonly runs: readonly CapRecord[] };
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

/** The bound every backup's peak RSS must stay within (issues 8 and 19). */
export function rssBoundBytes(settings: Pick<OurSettings, 'concurrency' | 'partSizeBytes'>): number {
  return settings.concurrency * settings.partSizeBytes + 100 * 1024 * 1024;
}
