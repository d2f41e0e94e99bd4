// The comparison's units: each times one tool (or one backup and its restores) on one
// dataset and deletes what it stored. A round runs every unit once, in an order rotated per
// round, so slow spells of the shared machine fall on every tool alike.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { changeDataset } from './dataset';
import {
  backupMetrics,
  CHECKOUT_CLI,
  CLI,
  log,
  measure,
  type MeasureContext,
  MiB,
  removeReceived,
  restoredBytes,
  run,
  settle,
  timeFiles,
} from './harness';
import { type CpuProfile, summarizeProfiles } from './profile';
import type { CompressionResult, DatasetInfo, ProfiledRun, RunRecord, ToolId } from './results';
import {
  awsCat,
  awsRestore,
  awsUpload,
  type Gateway,
  ourConfigToml,
  oursBackup,
  oursRestore,
  q,
  rcloneUpload,
  sendToNull,
  type Tuning,
} from './tools';

export const INCREMENTAL_CHANGE = 0.05;

export interface OurConfigRef {
  readonly file: string;
  readonly prefix: string;
  readonly subvolume: string;
}

export interface BenchDataset {
  readonly info: DatasetInfo;
  readonly subvolume: string;
  /** The read-only snapshot the peers send. */
  readonly snapshot: string;
  /** The README's config for this subvolume. */
  readonly ours: OurConfigRef;
  readonly tuned: OurConfigRef;
}

export interface Envs {
  /** awscli with its own defaults. */
  readonly aws: Record<string, string>;
  /** awscli with our part size and concurrency. */
  readonly awsMatched: Record<string, string>;
  readonly rclone: Record<string, string | null>;
  readonly ours: Record<string, string>;
}

export interface Bench extends MeasureContext {
  readonly work: string;
  /** Smallest first. */
  readonly datasets: readonly BenchDataset[];
  readonly envs: Envs;
  /** The peers' matched runs: our part size and concurrency. */
  readonly matched: Tuning;
  /** zstd + age, on the smallest dataset. */
  readonly sealed: OurConfigRef;
  /** The incremental check, on the largest dataset (it changes it: it runs last). */
  readonly inc: OurConfigRef;
  /** A quarter of the largest dataset (reflinks). */
  readonly scale: OurConfigRef;
  /** Text-heavy data, for the compression check. */
  readonly text: OurConfigRef;
  readonly runs: RunRecord[];
  readonly profiles: ProfiledRun[];
}

async function timed(
  bench: Bench,
  tool: ToolId,
  dataset: string,
  round: number,
  command: (files: ReturnType<typeof timeFiles>) => string,
  options: {
    readonly pipeline: boolean;
    readonly env: Record<string, string | null>;
    readonly streamBytes: (stdout: string) => number;
    readonly extra?: Partial<RunRecord>;
  },
): Promise<{ record: RunRecord; stdout: string }> {
  const name = `${tool}-${dataset}-r${round}`;
  const files = timeFiles(bench, name, options.pipeline);
  const measured = await measure(
    bench,
    { tool, dataset, round, name },
    command(files),
    files,
    options.env,
    options.streamBytes,
    options.extra,
  );
  bench.runs.push(measured.record);
  return measured;
}

const fullBytes = (stdout: string) => backupMetrics(stdout, 'full').bytes;

export async function unitSend(bench: Bench, dataset: BenchDataset, round: number): Promise<void> {
  await timed(bench, 'send', dataset.info.id, round, (files) => sendToNull(dataset.snapshot, files), {
    pipeline: false,
    env: {},
    streamBytes: () => dataset.info.streamBytes,
  });
}

/** One full backup with `config`, then each restore of it, then its objects deleted. */
async function backupAndRestores(
  bench: Bench,
  config: OurConfigRef,
  dataset: string,
  backupTool: ToolId,
  restores: readonly (readonly [ToolId, 'none' | 'default'])[],
  round: number,
): Promise<void> {
  const { record } = await timed(bench, backupTool, dataset, round, (files) => oursBackup(CLI, config.file, files, 'full'), {
    pipeline: false,
    env: bench.envs.ours,
    streamBytes: fullBytes,
  });
  for (const [tool, verify] of restores) {
    const target = join(bench.mnt, 'restore', `${tool}-${dataset}-r${round}`);
    try {
      await timed(
        bench,
        tool,
        dataset,
        round,
        (files) => oursRestore(CLI, config.file, basename(config.subvolume), target, verify, files),
        { pipeline: false, env: bench.envs.ours, streamBytes: (stdout) => restoredBytes(stdout) ?? record.streamBytes },
      );
    } finally {
      await removeReceived(target);
    }
  }
  await bench.gateway.release(`${config.prefix}/`, bench.envs.aws);
}

/** Ours with the README's config, restored with --verify none (as the peer, which verifies nothing) and with the default verification. */
export async function unitOurs(bench: Bench, dataset: BenchDataset, round: number): Promise<void> {
  await backupAndRestores(
    bench,
    dataset.ours,
    dataset.info.id,
    'ours-backup',
    [
      ['ours-restore', 'none'],
      ['ours-restore-verify', 'default'],
    ],
    round,
  );
}

export async function unitTuned(bench: Bench, dataset: BenchDataset, round: number): Promise<void> {
  await backupAndRestores(bench, dataset.tuned, dataset.info.id, 'ours-backup-tuned', [], round);
}

/** The same full and restore with zstd and age (issue 17's CPU budget): the dataset is incompressible, the worst case. */
export async function unitSealed(bench: Bench, dataset: BenchDataset, round: number): Promise<void> {
  await backupAndRestores(bench, bench.sealed, dataset.info.id, 'sealed-backup', [['sealed-restore', 'none']], round);
}

/** `btrfs send | aws s3 cp -` with awscli's defaults (and its restore), or matched to ours (upload only). */
export async function unitAws(bench: Bench, dataset: BenchDataset, round: number, variant: 'defaults' | 'matched'): Promise<void> {
  const tool = variant === 'defaults' ? 'aws-upload' : 'aws-upload-matched';
  const env = variant === 'defaults' ? bench.envs.aws : bench.envs.awsMatched;
  const id = dataset.info.id;
  const key = `peers/${tool}-${id}-r${round}.btrfs`;
  const stream = () => dataset.info.streamBytes;
  await timed(
    bench,
    tool,
    id,
    round,
    (files) => awsUpload({ snapshot: dataset.snapshot }, bench.gateway.s3, key, dataset.info.streamBytes, files),
    { pipeline: true, env, streamBytes: stream },
  );
  if (variant === 'defaults') {
    const target = join(bench.mnt, 'restore', `aws-${id}-r${round}`);
    await mkdir(target, { recursive: true });
    try {
      await timed(bench, 'aws-restore', id, round, (files) => awsRestore(bench.gateway.s3, key, target, files), {
        pipeline: true,
        env,
        streamBytes: stream,
      });
    } finally {
      await removeReceived(target);
    }
  }
  await bench.gateway.release(key, bench.envs.aws);
}

export async function unitRclone(bench: Bench, dataset: BenchDataset, round: number, variant: 'defaults' | 'matched'): Promise<void> {
  const tool = variant === 'defaults' ? 'rclone-upload' : 'rclone-upload-matched';
  const id = dataset.info.id;
  const key = `peers/${tool}-${id}-r${round}.btrfs`;
  const options = variant === 'defaults' ? {} : { tuning: bench.matched };
  await timed(bench, tool, id, round, (files) => rcloneUpload(dataset.snapshot, bench.gateway.s3, key, options, files), {
    pipeline: true,
    env: bench.envs.rclone,
    streamBytes: () => dataset.info.streamBytes,
  });
  await bench.gateway.release(key, bench.envs.aws);
}

export async function unitScale(bench: Bench, dataset: BenchDataset, round: number): Promise<void> {
  await backupAndRestores(bench, bench.scale, dataset.info.id, 'scale-0.25', [], round);
}

/** The Node flags of our executable's shebang (`#!/usr/bin/env -S node FLAGS`), so a profiled run keeps them. */
async function shebangFlags(): Promise<string[]> {
  const first = (await readFile(CHECKOUT_CLI, 'utf8')).split('\n')[0] ?? '';
  const words = first.replace(/^#!\s*/, '').split(/\s+/);
  return words.slice(words.indexOf('node') + 1);
}

/**
 * One extra run of ours under `node --cpu-prof` (not part of any comparison: profiling slows
 * it down); the summary says where the time went, the raw profiles stay in the logs.
 */
async function profiled(
  bench: Bench,
  tool: ProfiledRun['tool'],
  dataset: string,
  args: string,
  streamBytes: (stdout: string) => number,
): Promise<void> {
  const dir = join(bench.logs, 'profiles', tool);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await settle(bench.mnt);
  const flags = [...(await shebangFlags()), '--cpu-prof', `--cpu-prof-dir=${dir}`];
  const result = await run(`node ${flags.map(q).join(' ')} ${q(CHECKOUT_CLI)} ${args}`, bench.envs.ours);
  await writeFile(join(bench.logs, `profile-${tool}.stderr`), result.stderr);
  const profiles: CpuProfile[] = [];
  for (const name of (await readdir(dir)).filter((file) => file.endsWith('.cpuprofile'))) {
    profiles.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as CpuProfile);
  }
  if (profiles.length === 0) throw new Error(`node --cpu-prof wrote no profile in ${dir}`);
  const summary = summarizeProfiles(profiles);
  bench.profiles.push({ tool, dataset, wallSeconds: result.wallSeconds, streamBytes: streamBytes(result.stdout), summary });
  log(
    `  profiled ${tool}: ${result.wallSeconds.toFixed(2)} s; ${summary.categories
      .slice(0, 3)
      .map((c) => `${c.name} ${(c.share * 100).toFixed(0)}%`)
      .join(', ')}`,
  );
}

/** Our full backup and its restore once more, under the profiler. */
export async function unitProfile(bench: Bench, dataset: BenchDataset): Promise<void> {
  const config = dataset.ours;
  const id = dataset.info.id;
  await profiled(bench, 'ours-backup', id, `backup --full --json --config ${q(config.file)}`, fullBytes);
  const target = join(bench.mnt, 'restore', 'profiled');
  try {
    await profiled(
      bench,
      'ours-restore',
      id,
      `restore --json --subvolume ${q(basename(config.subvolume))} --target ${q(target)} --verify none --config ${q(config.file)}`,
      (stdout) => restoredBytes(stdout) ?? 0,
    );
  } finally {
    await removeReceived(target);
  }
  await bench.gateway.release(`${config.prefix}/`, bench.envs.aws);
}

/** A read-only snapshot of the incremental check's subvolume, for the peer's `btrfs send -p`. */
async function peerSnapshot(bench: Bench, name: string): Promise<string> {
  const path = join(bench.mnt, 'bench-snap', name);
  await run(`btrfs -q subvolume snapshot -r ${q(bench.inc.subvolume)} ${q(path)} && sync`);
  return path;
}

/**
 * Full backup, change ~5% of the data in place, incremental (issue 8); then one new 4 KiB file
 * and a near-empty incremental, against `btrfs send -p | aws s3 cp -` of the same change
 * (issue 19). Its objects and snapshots are deleted after.
 */
export async function unitIncremental(bench: Bench, dataset: BenchDataset, rep: number, profile: boolean): Promise<void> {
  const config = bench.inc;
  const id = dataset.info.id;
  const ours = { pipeline: false, env: bench.envs.ours } as const;
  await timed(bench, 'inc-full', id, rep, (files) => oursBackup(CLI, config.file, files, 'full'), {
    ...ours,
    streamBytes: fullBytes,
  });
  const change = await changeDataset(config.subvolume, INCREMENTAL_CHANGE, 1000 + rep);
  log(
    `  changed ${(change.changedBytes / MiB).toFixed(1)} MiB in place: ${change.largeFilesChanged} large file(s) (${(change.appendedBytes / MiB).toFixed(1)} MiB appended), ${change.smallFilesChanged} small file(s)`,
  );
  await timed(bench, 'inc', id, rep, (files) => oursBackup(CLI, config.file, files, 'incremental'), {
    ...ours,
    streamBytes: (stdout) => backupMetrics(stdout, 'inc').bytes,
    extra: { changedBytes: change.changedBytes },
  });

  // The peer's parent holds what ours last backed up; both then see the same one-file change.
  const parent = await peerSnapshot(bench, `inc-parent-r${rep}`);
  const key = `peers/aws-inc-empty-${id}-r${rep}.btrfs`;
  try {
    const touched = 4096;
    await writeFile(join(config.subvolume, `touched-r${rep}.bin`), Buffer.alloc(touched, rep));
    await timed(bench, 'inc-empty', id, rep, (files) => oursBackup(CLI, config.file, files, 'incremental'), {
      ...ours,
      streamBytes: (stdout) => backupMetrics(stdout, 'inc').bytes,
      extra: { changedBytes: touched },
    });
    const child = await peerSnapshot(bench, `inc-child-r${rep}`);
    try {
      const streamBytes = Number((await run(`btrfs send -q -p ${q(parent)} ${q(child)} | wc -c`)).stdout.trim());
      await timed(
        bench,
        'aws-inc-empty',
        id,
        rep,
        (files) => awsUpload({ snapshot: child, parent }, bench.gateway.s3, key, streamBytes, files),
        { pipeline: true, env: bench.envs.aws, streamBytes: () => streamBytes, extra: { changedBytes: touched } },
      );
    } finally {
      await run(`btrfs -q subvolume delete ${q(child)}`);
    }
  } finally {
    await run(`btrfs -q subvolume delete ${q(parent)}`);
  }
  await bench.gateway.release(key, bench.envs.aws);

  if (profile) {
    // Another 5% on top, and an incremental of it under the profiler.
    await changeDataset(config.subvolume, INCREMENTAL_CHANGE, 2000 + rep);
    await profiled(bench, 'inc', id, `backup --once --json --config ${q(config.file)}`, (stdout) => backupMetrics(stdout, 'inc').bytes);
  }
  await bench.gateway.release(`${config.prefix}/`, bench.envs.aws);
}

/** Lines of a service log: timestamps, hosts, paths and numbers, as text-heavy data is. */
function logText(bytes: number): string {
  const lines: string[] = [];
  const verbs = ['GET', 'PUT', 'POST', 'DELETE'];
  let length = 0;
  for (let index = 0; length < bytes; index++) {
    const line = `2026-12-07T04:${String(index % 60).padStart(2, '0')}:${String((index * 7) % 60).padStart(2, '0')}.${String(index % 1000).padStart(3, '0')}Z host${index % 7} api[${1000 + (index % 97)}]: ${verbs[index % 4]} /v1/items/${(index * 7919) % 100_000} status=${index % 13 === 0 ? 500 : 200} took=${(index * 31) % 900}ms user=${(index * 104_729) % 5000}\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join('');
}

/** One zstd backup of text-heavy data: what it stores of its send stream (issue 17: at most 70%). */
export async function compressionCase(bench: Bench, textBytes: number): Promise<CompressionResult> {
  const config = bench.text;
  await mkdir(config.subvolume, { recursive: true });
  for (let file = 0; file * 64 * MiB < textBytes; file++)
    await writeFile(join(config.subvolume, `log-${file}.txt`), logText(Math.min(64 * MiB, textBytes - file * 64 * MiB)));
  await run('sync');
  const backup = await run(`${q(CLI)} backup --full --json --config ${q(config.file)}`, bench.envs.ours);
  const streamBytes = backupMetrics(backup.stdout, 'full').bytes;
  const pointer = JSON.parse((await run(awsCat(bench.gateway.s3, `${config.prefix}/subvol/text/current.json`), bench.envs.aws)).stdout) as {
    manifest_key: string;
  };
  const manifest = JSON.parse((await run(awsCat(bench.gateway.s3, pointer.manifest_key), bench.envs.aws)).stdout) as {
    stored_bytes: number;
  };
  await bench.gateway.release(`${config.prefix}/`, bench.envs.aws);
  log(`  text: ${(streamBytes / MiB).toFixed(1)} MiB of send stream stored in ${(manifest.stored_bytes / MiB).toFixed(1)} MiB`);
  return { textBytes, streamBytes, storedBytes: manifest.stored_bytes };
}

/**
 * A config of ours with the README's settings for a part of the bench that runs apart
 * (`name`: its own state and snapshot directories), reaching the store at `gateway`.
 */
export async function writeSideConfig(bench: Bench, name: string, subvolume: string, gateway: Gateway, file: string): Promise<string> {
  await mkdir(join(bench.work, `state-${name}`), { recursive: true });
  await mkdir(join(bench.mnt, `snapshots-${name}`), { recursive: true });
  await writeFile(
    file,
    ourConfigToml(
      { workDir: bench.work, name, subvolume, snapshotsDir: join(bench.mnt, `snapshots-${name}`), prefix: `bench-${name}` },
      gateway,
    ),
  );
  return `bench-${name}`;
}
