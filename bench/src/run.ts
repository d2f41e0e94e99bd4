// `pnpm bench`: builds a loop Btrfs with a generated dataset, starts a dedicated local
// gateway, and measures btrfs-to-s3 against `btrfs send | aws s3 cp -` and
// `btrfs send | rclone rcat` (and the restores) in interleaved rounds; then the incremental
// and scaling checks. Writes bench/results/latest.json and docs/benchmark.md (+ chart).
// Exit 0: every target passes; 1: a target fails (the page is written anyway) or the run
// failed; 2: usage; 130/143: interrupted (everything started is stopped and removed).
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseBenchArgs, USAGE, UsageError } from './args';
import { changeDataset, planDataset, planTotals, writeDataset } from './dataset';
import { Interrupted, sh, signalRunning } from './exec';
import { describeMachine, loadAverage } from './machine';
import { CHART_FILE, evaluate, renderMarkdown, renderSvg, startupLines, summaryLines, targetLine } from './report';
import { type CpuProfile, summarizeProfiles } from './profile';
import type { Dataset, ProfiledRun, Results, RunRecord, ScalePoint, Settings, ToolId } from './results';
import { type Executable, ourExecutable, startupCase as runStartupCase } from './startup';
import { cpuSeconds, parseTimeV } from './time-v';
import {
  awsCat,
  awsConfigFile,
  awsDelete,
  awsEnv,
  awsRestore,
  awsUpload,
  type Gateway,
  oursBackup,
  ourConfigToml,
  ourEnv,
  oursRestore,
  q,
  rcloneEnv,
  rcloneUpload,
  sendToNull,
  type TimeFiles,
  type Tuning,
} from './tools';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'apps/cli/bin/run.js');
const LOOP = join(ROOT, 'tools/testenv/bin/loop-btrfs.sh');
const RGW = join(ROOT, 'tools/testenv/bin/rgw.sh');
const MiB = 2 ** 20;
const GiB = 2 ** 30;

const TUNING: Required<Tuning> = { partSizeBytes: 128 * MiB, concurrency: 4, chunkSizeBytes: 200 * GiB /* the default */ };
const INCREMENTAL_CHANGE = 0.05;
/** Timed runs of the start-up case: a few seconds in all. */
const STARTUP_RUNS = 9;

const abort = new AbortController();
let interruptedBy: NodeJS.Signals | undefined;
const startedAt = Date.now();

function log(message: string): void {
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  process.stderr.write(`bench [${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}] ${message}\n`);
}

const run = (command: string, env?: Record<string, string | null>) =>
  sh(command, { signal: abort.signal, ...(env === undefined ? {} : { env }) });

/** Cleanup steps, run last-in first-out, also after a failure or an interrupt. */
class Teardown {
  private readonly steps: { what: string; step: () => Promise<unknown> }[] = [];

  add(what: string, step: () => Promise<unknown>): void {
    this.steps.push({ what, step });
  }

  async run(): Promise<void> {
    for (const { what, step } of this.steps.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`cleanup: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) env[match[1]] = match[2];
  }
  return env;
}

function required(env: Record<string, string>, key: string): string {
  const value = env[key];
  if (value === undefined || value === '') throw new Error(`gateway env has no ${key}`);
  return value;
}

/** The gateway this run started: its S3 coordinates, and its daemons for CPU accounting. */
class LocalGateway {
  private ticksPerSecond = 100;

  constructor(
    readonly dir: string,
    readonly s3: Gateway,
  ) {}

  static async start(dir: string, memstoreBytes: number): Promise<LocalGateway> {
    // A loaded machine sometimes fails a cluster start; rgw.sh then stops what it started.
    for (let attempt = 1; ; attempt++) {
      try {
        await run(`RGW_MEMSTORE_BYTES=${memstoreBytes} ${q(RGW)} start ${q(dir)}`);
        break;
      } catch (error) {
        if (attempt === 3 || abort.signal.aborted) throw error;
        log(
          `  gateway start failed (attempt ${attempt}), starting again: ${error instanceof Error ? error.message.split('\n').slice(-2).join(' ') : String(error)}`,
        );
        await sh(`${q(RGW)} stop ${q(dir)}`);
      }
    }
    const env = parseEnvFile(await readFile(join(dir, 'env'), 'utf8'));
    const gateway = new LocalGateway(dir, {
      endpoint: required(env, 'BTRFS_S3_TEST_ENDPOINT'),
      region: required(env, 'BTRFS_S3_TEST_REGION'),
      bucket: required(env, 'BTRFS_S3_TEST_BUCKET'),
      accessKeyId: required(env, 'AWS_ACCESS_KEY_ID'),
      secretAccessKey: required(env, 'AWS_SECRET_ACCESS_KEY'),
    });
    gateway.ticksPerSecond = Number((await run('getconf CLK_TCK')).stdout.trim()) || 100;
    return gateway;
  }

  /** CPU seconds used so far by radosgw, the OSD and the monitor (from /proc). */
  async cpuSeconds(): Promise<number> {
    let ticks = 0;
    for (const name of ['client.rgw', 'osd.0', 'mon.a']) {
      try {
        const pid = (await readFile(join(this.dir, 'run', `${name}.pid`), 'utf8')).trim();
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // a daemon that is gone counts nothing
      }
    }
    return ticks / this.ticksPerSecond;
  }

  /** Deletes what a run stored and has the gateway free it now, so memstore does not fill. */
  async release(keyOrPrefix: string, env: Record<string, string | null>): Promise<void> {
    const start = Date.now();
    await run(awsDelete(this.s3, keyOrPrefix), env);
    const deleted = Date.now();
    await run(`radosgw-admin -c ${q(join(this.dir, 'ceph.conf'))} gc process --include-all`);
    log(
      `  deleted ${keyOrPrefix} (${((deleted - start) / 1000).toFixed(1)} s), collected (${((Date.now() - deleted) / 1000).toFixed(1)} s)`,
    );
  }
}

interface BackupJson {
  outcomes?: { result?: string; metrics?: { kind?: string; bytes?: number } }[];
}

interface RestoreJson {
  bytes?: number;
}

function backupMetrics(stdout: string, expectKind: 'full' | 'inc'): { bytes: number } {
  const parsed = JSON.parse(stdout) as BackupJson;
  const outcome = parsed.outcomes?.[0];
  if (outcome?.result !== 'published' || outcome.metrics?.bytes === undefined)
    throw new Error(`backup did not publish: ${stdout.slice(0, 500)}`);
  if (outcome.metrics.kind !== expectKind)
    throw new Error(`expected a ${expectKind} backup, the tool ran a ${outcome.metrics.kind ?? 'nothing'}`);
  return { bytes: outcome.metrics.bytes };
}

interface Bench {
  readonly work: string;
  readonly mnt: string;
  readonly logs: string;
  readonly snapshot: string;
  readonly streamBytes: number;
  readonly gateway: LocalGateway;
  readonly awsEnv: Record<string, string>;
  readonly rcloneEnv: Record<string, string | null>;
  readonly ourEnv: Record<string, string>;
  readonly configs: Record<
    'ours' | 'scale-0.25' | 'scale-0.5' | 'inc' | 'sealed' | 'text',
    { file: string; prefix: string; subvolume: string }
  >;
  readonly runs: RunRecord[];
  readonly profiles: ProfiledRun[];
  /** Profile ours too (an extra untimed run each of backup, restore and incremental). */
  readonly profile: boolean;
}

function timeFiles(bench: Bench, tool: ToolId, round: number, pipeline: boolean): TimeFiles {
  const base = join(bench.logs, `${tool}-r${round}`);
  return { main: `${base}.time`, ...(pipeline ? { source: `${base}.other.time` } : {}) };
}

/** Runs one timed command and records it. */
async function measure(
  bench: Bench,
  tool: ToolId,
  round: number,
  command: string,
  files: TimeFiles,
  env: Record<string, string | null>,
  streamBytes: (stdout: string) => number,
  extra: Partial<RunRecord> = {},
): Promise<{ record: RunRecord; stdout: string }> {
  const settleStart = Date.now();
  await settle(bench);
  const settleSeconds = (Date.now() - settleStart) / 1000;
  const gatewayBefore = await bench.gateway.cpuSeconds();
  const machineBefore = await machineTicks();
  const result = await run(command, env);
  const machineAfter = await machineTicks();
  const gatewayCpuSeconds = (await bench.gateway.cpuSeconds()) - gatewayBefore;
  const machineBusy = (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total);
  await writeFile(join(bench.logs, `${tool}-r${round}.stderr`), result.stderr);
  const main = parseTimeV(await readFile(files.main, 'utf8'));
  const source = files.source === undefined ? undefined : parseTimeV(await readFile(files.source, 'utf8'));
  const strip = ({ wallSeconds, userSeconds, systemSeconds, maxRssKiB }: typeof main) => ({
    wallSeconds,
    userSeconds,
    systemSeconds,
    maxRssKiB,
  });
  const record: RunRecord = {
    tool,
    round,
    wallSeconds: result.wallSeconds,
    streamBytes: streamBytes(result.stdout),
    main: strip(main),
    ...(source === undefined ? {} : { source: strip(source) }),
    gatewayCpuSeconds,
    machineBusy,
    ...extra,
  };
  bench.runs.push(record);
  log(
    `  ${tool} r${round}: ${record.wallSeconds.toFixed(2)} s, ${(record.streamBytes / record.wallSeconds / 1e6).toFixed(0)} MB/s, ` +
      `RSS ${(record.main.maxRssKiB / 1024).toFixed(0)} MiB, CPU ${cpuSeconds(record.main).toFixed(1)} s` +
      (source === undefined ? '' : ` (+${cpuSeconds(source).toFixed(1)} s other side)`) +
      `, gateway CPU ${gatewayCpuSeconds.toFixed(1)} s, machine ${(machineBusy * 100).toFixed(0)}% busy (settled ${settleSeconds.toFixed(1)} s before)`,
  );
  return { record, stdout: result.stdout };
}

/** The Node flags of our executable's shebang (`#!/usr/bin/env -S node FLAGS`), so a profiled run keeps them. */
async function shebangFlags(): Promise<string[]> {
  const first = (await readFile(CLI, 'utf8')).split('\n')[0] ?? '';
  const words = first.replace(/^#!\s*/, '').split(/\s+/);
  return words.slice(words.indexOf('node') + 1);
}

/**
 * One extra run of ours under `node --cpu-prof` (not part of any comparison: profiling slows
 * it down); the summary says where the time went, the raw profiles stay in the logs.
 */
async function profiled(bench: Bench, tool: ProfiledRun['tool'], args: string, streamBytes: (stdout: string) => number): Promise<void> {
  const dir = join(bench.logs, 'profiles', tool);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await settle(bench);
  const flags = [...(await shebangFlags()), '--cpu-prof', `--cpu-prof-dir=${dir}`];
  const result = await run(`node ${flags.map(q).join(' ')} ${q(CLI)} ${args}`, bench.ourEnv);
  await writeFile(join(bench.logs, `profile-${tool}.stderr`), result.stderr);
  const profiles: CpuProfile[] = [];
  for (const name of (await readdir(dir)).filter((file) => file.endsWith('.cpuprofile'))) {
    profiles.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as CpuProfile);
  }
  if (profiles.length === 0) throw new Error(`node --cpu-prof wrote no profile in ${dir}`);
  const summary = summarizeProfiles(profiles);
  bench.profiles.push({ tool, wallSeconds: result.wallSeconds, streamBytes: streamBytes(result.stdout), summary });
  log(
    `  profiled ${tool}: ${result.wallSeconds.toFixed(2)} s; ${summary.categories
      .slice(0, 3)
      .map((c) => `${c.name} ${(c.share * 100).toFixed(0)}%`)
      .join(', ')}`,
  );
}

/** Busy and total jiffies of all cores so far (/proc/stat). */
async function machineTicks(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** Nothing of the previous run may still be in flight: dirty pages, deleted subvolumes being cleaned. */
async function settle(bench: Bench): Promise<void> {
  await run(`sync && btrfs subvolume sync ${q(bench.mnt)}`);
}

/** Deletes every subvolume received under dir (the restore targets), then dir itself. */
async function removeReceived(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) await run(`btrfs -q subvolume delete ${q(join(dir, name))}`);
  await rm(dir, { recursive: true, force: true });
}

async function unitSend(bench: Bench, round: number): Promise<void> {
  const files = timeFiles(bench, 'send', round, false);
  await measure(bench, 'send', round, sendToNull(bench.snapshot, files), files, {}, () => bench.streamBytes);
}

/** One full backup with `config`, then each restore of it, then its objects deleted. */
async function backupAndRestores(
  bench: Bench,
  config: Bench['configs']['ours'],
  backupTool: ToolId,
  restores: readonly (readonly [ToolId, 'none' | 'sample'])[],
  round: number,
): Promise<void> {
  const files = timeFiles(bench, backupTool, round, false);
  const { record } = await measure(
    bench,
    backupTool,
    round,
    oursBackup(CLI, config.file, files, 'full'),
    files,
    bench.ourEnv,
    (stdout) => backupMetrics(stdout, 'full').bytes,
  );
  for (const [tool, verify] of restores) {
    const target = join(bench.mnt, 'restore', `${tool}-r${round}`);
    const restoreFiles = timeFiles(bench, tool, round, false);
    try {
      await measure(
        bench,
        tool,
        round,
        oursRestore(CLI, config.file, basename(config.subvolume), target, verify, restoreFiles),
        restoreFiles,
        bench.ourEnv,
        (stdout) => (JSON.parse(stdout) as RestoreJson).bytes ?? record.streamBytes,
      );
    } finally {
      await removeReceived(target);
    }
  }
  await bench.gateway.release(`${config.prefix}/`, bench.awsEnv);
}

async function unitOurs(bench: Bench, round: number): Promise<void> {
  // The comparison restores with --verify none (the peer verifies nothing); one restore with
  // --verify sample, in the first round, shows what the tree comparison adds.
  const restores: (readonly [ToolId, 'none' | 'sample'])[] = [['ours-restore', 'none']];
  if (round === 1) restores.push(['ours-restore-sample', 'sample']);
  await backupAndRestores(bench, bench.configs.ours, 'ours-backup', restores, round);
}

/** The same full and restore with zstd and age (issue 17's CPU budget): the dataset is incompressible, the worst case. */
async function unitSealed(bench: Bench, round: number): Promise<void> {
  await backupAndRestores(bench, bench.configs.sealed, 'sealed-backup', [['sealed-restore', 'none']], round);
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
async function compressionCase(bench: Bench, textBytes: number): Promise<Results['compression']> {
  const config = bench.configs.text;
  await mkdir(config.subvolume, { recursive: true });
  for (let file = 0; file * 64 * MiB < textBytes; file++)
    await writeFile(join(config.subvolume, `log-${file}.txt`), logText(Math.min(64 * MiB, textBytes - file * 64 * MiB)));
  await run('sync');
  const backup = await run(`${q(CLI)} backup --full --json --config ${q(config.file)}`, bench.ourEnv);
  const streamBytes = backupMetrics(backup.stdout, 'full').bytes;
  const pointer = JSON.parse((await run(awsCat(bench.gateway.s3, `${config.prefix}/subvol/text/current.json`), bench.awsEnv)).stdout) as {
    manifest_key: string;
  };
  const manifest = JSON.parse((await run(awsCat(bench.gateway.s3, pointer.manifest_key), bench.awsEnv)).stdout) as { stored_bytes: number };
  await bench.gateway.release(`${config.prefix}/`, bench.awsEnv);
  log(`  text: ${(streamBytes / MiB).toFixed(1)} MiB of send stream stored in ${(manifest.stored_bytes / MiB).toFixed(1)} MiB`);
  return { textBytes, streamBytes, storedBytes: manifest.stored_bytes };
}

async function unitAws(bench: Bench, round: number): Promise<void> {
  const key = `peers/aws-r${round}.btrfs`;
  const files = timeFiles(bench, 'aws-upload', round, true);
  await measure(
    bench,
    'aws-upload',
    round,
    awsUpload(bench.snapshot, bench.gateway.s3, key, bench.streamBytes, files),
    files,
    bench.awsEnv,
    () => bench.streamBytes,
  );
  const target = join(bench.mnt, 'restore', `aws-r${round}`);
  await mkdir(target, { recursive: true });
  const restoreFiles = timeFiles(bench, 'aws-restore', round, true);
  try {
    await measure(
      bench,
      'aws-restore',
      round,
      awsRestore(bench.gateway.s3, key, target, restoreFiles),
      restoreFiles,
      bench.awsEnv,
      () => bench.streamBytes,
    );
  } finally {
    await removeReceived(target);
  }
  await bench.gateway.release(key, bench.awsEnv);
}

async function unitRclone(bench: Bench, round: number): Promise<void> {
  const key = `peers/rclone-r${round}.btrfs`;
  const files = timeFiles(bench, 'rclone-upload', round, true);
  await measure(
    bench,
    'rclone-upload',
    round,
    rcloneUpload(bench.snapshot, bench.gateway.s3, key, TUNING, files),
    files,
    bench.rcloneEnv,
    () => bench.streamBytes,
  );
  await bench.gateway.release(key, bench.awsEnv);
}

async function unitScale(bench: Bench, tool: 'scale-0.25' | 'scale-0.5', round: number): Promise<void> {
  const config = bench.configs[tool];
  const files = timeFiles(bench, tool, round, false);
  await measure(
    bench,
    tool,
    round,
    oursBackup(CLI, config.file, files, 'full'),
    files,
    bench.ourEnv,
    (stdout) => backupMetrics(stdout, 'full').bytes,
  );
  await bench.gateway.release(`${config.prefix}/`, bench.awsEnv);
}

/** Full backup, change ~5% of the data in place, incremental; its objects are deleted after. */
async function unitIncremental(bench: Bench, rep: number, profile: boolean): Promise<void> {
  const config = bench.configs.inc;
  const fullFiles = timeFiles(bench, 'inc-full', rep, false);
  await measure(
    bench,
    'inc-full',
    rep,
    oursBackup(CLI, config.file, fullFiles, 'full'),
    fullFiles,
    bench.ourEnv,
    (stdout) => backupMetrics(stdout, 'full').bytes,
  );
  const change = await changeDataset(config.subvolume, INCREMENTAL_CHANGE, 1000 + rep);
  log(
    `  changed ${(change.changedBytes / MiB).toFixed(1)} MiB in place: ${change.largeFilesChanged} large file(s) (${(change.appendedBytes / MiB).toFixed(1)} MiB appended), ${change.smallFilesChanged} small file(s)`,
  );
  const incFiles = timeFiles(bench, 'inc', rep, false);
  await measure(
    bench,
    'inc',
    rep,
    oursBackup(CLI, config.file, incFiles, 'incremental'),
    incFiles,
    bench.ourEnv,
    (stdout) => backupMetrics(stdout, 'inc').bytes,
    { changedBytes: change.changedBytes },
  );
  if (profile) {
    // Another 5% on top, and an incremental of it under the profiler.
    await changeDataset(config.subvolume, INCREMENTAL_CHANGE, 2000 + rep);
    await profiled(bench, 'inc', `backup --once --json --config ${q(config.file)}`, (stdout) => backupMetrics(stdout, 'inc').bytes);
  }
  await bench.gateway.release(`${config.prefix}/`, bench.awsEnv);
}

/** Our full backup and its restore once more, under the profiler. */
async function unitProfile(bench: Bench): Promise<void> {
  const config = bench.configs.ours;
  await profiled(bench, 'ours-backup', `backup --full --json --config ${q(config.file)}`, (stdout) => backupMetrics(stdout, 'full').bytes);
  const target = join(bench.mnt, 'restore', 'profiled');
  try {
    await profiled(
      bench,
      'ours-restore',
      `restore --json --subvolume ${q(basename(config.subvolume))} --target ${q(target)} --verify none --config ${q(config.file)}`,
      (stdout) => (JSON.parse(stdout) as RestoreJson).bytes ?? 0,
    );
  } finally {
    await removeReceived(target);
  }
  await bench.gateway.release(`${config.prefix}/`, bench.awsEnv);
}

const startupCase = (work: string, gateway: Gateway, executable: Executable, subvolume: string) =>
  runStartupCase({ work, root: ROOT, gateway, executable, subvolume, tuning: TUNING, runs: STARTUP_RUNS, signal: abort.signal, log });

/** `--startup-only`: the gateway and the start-up case, nothing else; prints the result. */
async function startupOnly(workDir: string | undefined, executable: Executable): Promise<number> {
  const work = workDir === undefined ? await mkdtemp('/tmp/btrfs-to-s3-bench.') : resolve(workDir);
  const teardown = new Teardown();
  if (workDir === undefined) teardown.add('remove the work directory', () => rm(work, { recursive: true, force: true }));
  try {
    const gatewayDir = join(work, 'rgw');
    teardown.add('stop the gateway', () => sh(`${q(RGW)} stop ${q(gatewayDir)}`));
    log(`local gateway in ${gatewayDir}`);
    const gateway = await LocalGateway.start(gatewayDir, 512 * MiB);
    const startup = await startupCase(work, gateway.s3, executable, join(work, 'data'));
    for (const line of startupLines(startup)) process.stdout.write(`${line}\n`);
    return 0;
  } finally {
    log('cleaning up: gateway');
    await teardown.run();
  }
}

const SCALES = [
  { tool: 'scale-0.25', label: '0.25x', fraction: 0.25, subvolume: 'data-quarter', groups: ['a'] },
  { tool: 'scale-0.5', label: '0.5x', fraction: 0.5, subvolume: 'data-half', groups: ['a', 'b'] },
] as const;

async function benchmark(
  sizeBytes: number,
  rounds: number,
  profile: boolean,
  workDir: string | undefined,
  resultsPath: string,
  executable: Executable,
): Promise<Results> {
  const started = new Date();
  const loadStart = loadAverage();
  const work = workDir === undefined ? await mkdtemp('/tmp/btrfs-to-s3-bench.') : resolve(workDir);
  const teardown = new Teardown();
  if (workDir === undefined) teardown.add('remove the work directory', () => rm(work, { recursive: true, force: true }));
  teardown.add('keep the logs', () => keepLogs(work, resultsPath));
  try {
    const logs = join(work, 'logs');
    await mkdir(logs, { recursive: true });
    const machine = await describeMachine();
    const plan = planDataset(sizeBytes);
    const totals = planTotals(plan);

    // A sparse image: room for the dataset, two restores in flight and the incremental's changes.
    const loopBytes = Math.ceil((4 * sizeBytes + 2 * GiB) / MiB);
    const loopDir = join(work, 'btrfs');
    teardown.add('destroy the loop Btrfs', () => sh(`${q(LOOP)} destroy ${q(loopDir)}`));
    log(`loop Btrfs (${loopBytes} MiB sparse) in ${loopDir}`);
    await run(`${q(LOOP)} create ${q(loopDir)} ${loopBytes}M`);
    const mnt = join(loopDir, 'mnt');
    const data = join(mnt, 'data');
    await run(`btrfs -q subvolume create ${q(data)}`);
    log(`dataset: ${(totals.bytes / GiB).toFixed(2)} GiB, ${totals.largeFiles} large files, ${totals.smallFiles} small files`);
    const generateStart = Date.now();
    await writeDataset(data, plan, undefined, abort.signal);
    const generateSeconds = (Date.now() - generateStart) / 1000;
    log(`  written in ${generateSeconds.toFixed(1)} s`);
    const scaling: ScalePoint[] = [];
    for (const scale of SCALES) {
      const path = join(mnt, scale.subvolume);
      await run(`btrfs -q subvolume create ${q(path)}`);
      await run(`cp -a --reflink=always ${scale.groups.map((group) => q(join(data, group))).join(' ')} ${q(path)}/`);
      const bytes = plan.groups
        .filter((group) => (scale.groups as readonly string[]).includes(group.name))
        .reduce((sum, group) => sum + [...group.large, ...group.small].reduce((a, b) => a + b, 0), 0);
      scaling.push({ tool: scale.tool, label: scale.label, fraction: scale.fraction, subvolume: scale.subvolume, bytes });
    }
    scaling.push({ tool: 'ours-backup', label: '1x', fraction: 1, subvolume: 'data', bytes: totals.bytes });
    for (const dir of ['snapshots', 'snapshots-inc', 'snapshots-sealed', 'snapshots-text', 'bench-snap', 'restore'])
      await mkdir(join(mnt, dir), { recursive: true });
    await run(`btrfs -q subvolume create ${q(join(mnt, 'text'))}`);
    const snapshot = join(mnt, 'bench-snap', 'data');
    await run(`btrfs -q subvolume snapshot -r ${q(data)} ${q(snapshot)} && sync`);
    const streamBytes = Number((await run(`btrfs send -q ${q(snapshot)} | wc -c`)).stdout.trim());
    log(`benchmark snapshot ${snapshot}: send stream ${(streamBytes / GiB).toFixed(2)} GiB`);

    // Memstore holds at most one tool's objects at a time (each run's are deleted and
    // collected once measured), plus the incremental check's full and incremental.
    const memstoreBytes = Math.ceil(2 * sizeBytes + 2 * GiB);
    const gatewayDir = join(work, 'rgw');
    teardown.add('stop the gateway', () => sh(`${q(RGW)} stop ${q(gatewayDir)}`));
    log(`local gateway in ${gatewayDir} (memstore ${(memstoreBytes / GiB).toFixed(1)} GiB)`);
    const gateway = await LocalGateway.start(gatewayDir, memstoreBytes);
    log(`  ${gateway.s3.endpoint}, bucket ${gateway.s3.bucket}`);
    const startup = await startupCase(work, gateway.s3, executable, data);
    for (const line of startupLines(startup)) log(`  ${line}`);

    const awsConfigPath = join(work, 'aws-config');
    await writeFile(awsConfigPath, awsConfigFile(gateway.s3, TUNING));
    const configs = {} as Bench['configs'];
    const identityFile = join(work, 'bench.key');
    const recipient = (await run(`${q(CLI)} key generate --output ${q(identityFile)}`)).stdout.trim();
    const ourConfigs = [
      { name: 'ours', subvolume: data, snapshotsDir: join(mnt, 'snapshots'), prefix: 'bench-ours' },
      { name: 'scale-0.25', subvolume: join(mnt, 'data-quarter'), snapshotsDir: join(mnt, 'snapshots'), prefix: 'bench-scale-quarter' },
      { name: 'scale-0.5', subvolume: join(mnt, 'data-half'), snapshotsDir: join(mnt, 'snapshots'), prefix: 'bench-scale-half' },
      { name: 'inc', subvolume: data, snapshotsDir: join(mnt, 'snapshots-inc'), prefix: 'bench-inc' },
      {
        name: 'sealed',
        subvolume: data,
        snapshotsDir: join(mnt, 'snapshots-sealed'),
        prefix: 'bench-sealed',
        compression: true,
        encryption: { recipient, identityFile },
      },
      { name: 'text', subvolume: join(mnt, 'text'), snapshotsDir: join(mnt, 'snapshots-text'), prefix: 'bench-text', compression: true },
    ] as const;
    for (const config of ourConfigs) {
      const file = join(work, `config-${config.name}.toml`);
      await mkdir(join(work, `state-${config.name}`), { recursive: true });
      await writeFile(
        file,
        ourConfigToml({ workDir: work, ...config }, gateway.s3, { partSizeBytes: TUNING.partSizeBytes, concurrency: TUNING.concurrency }),
      );
      configs[config.name] = { file, prefix: config.prefix, subvolume: config.subvolume };
    }
    const bench: Bench = {
      work,
      mnt,
      logs,
      snapshot,
      streamBytes,
      gateway,
      awsEnv: awsEnv(gateway.s3, awsConfigPath),
      rcloneEnv: rcloneEnv(gateway.s3),
      ourEnv: ourEnv(gateway.s3),
      configs,
      runs: [],
      profiles: [],
      profile,
    };

    // Round-robin: every tool once per round, the order rotated each round.
    const units: { name: string; go: (round: number) => Promise<void> }[] = [
      { name: 'btrfs send > /dev/null', go: (r) => unitSend(bench, r) },
      { name: 'btrfs-to-s3 backup + restores', go: (r) => unitOurs(bench, r) },
      { name: 'btrfs-to-s3 backup + restore, zstd + age', go: (r) => unitSealed(bench, r) },
      { name: 'aws s3 cp upload + restore', go: (r) => unitAws(bench, r) },
      { name: 'rclone rcat upload', go: (r) => unitRclone(bench, r) },
      { name: 'btrfs-to-s3 backup 0.25x', go: (r) => unitScale(bench, 'scale-0.25', r) },
      { name: 'btrfs-to-s3 backup 0.5x', go: (r) => unitScale(bench, 'scale-0.5', r) },
    ];
    for (let round = 1; round <= rounds; round++) {
      const shift = (round - 1) % units.length;
      const order = [...units.slice(shift), ...units.slice(0, shift)];
      log(`round ${round}/${rounds}: ${order.map((unit) => unit.name).join(', ')}`);
      for (const unit of order) await unit.go(round);
    }
    log('compression of text-heavy data (one zstd backup)');
    const compression = await compressionCase(bench, Math.max(64 * MiB, Math.round(sizeBytes / 8)));
    if (bench.profile) {
      log('CPU profiles of our backup and restore (extra runs, not compared)');
      await unitProfile(bench);
    }
    // Last: it changes the data the rounds above back up.
    for (let rep = 1; rep <= rounds; rep++) {
      log(`incremental check ${rep}/${rounds}: full, change ${INCREMENTAL_CHANGE * 100}%, incremental`);
      await unitIncremental(bench, rep, bench.profile && rep === rounds);
    }

    const finished = new Date();
    const settings: Settings = {
      sizeBytes,
      rounds,
      partSizeBytes: TUNING.partSizeBytes,
      concurrency: TUNING.concurrency,
      chunkSizeBytes: TUNING.chunkSizeBytes,
      memstoreBytes,
    };
    const dataset: Dataset = { ...totals, streamBytes, generateSeconds, scaling };
    return {
      schema: 1,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationSeconds: (finished.getTime() - started.getTime()) / 1000,
      machine: { ...machine, loadAverage: { start: loadStart, end: loadAverage() } },
      settings,
      dataset,
      runs: bench.runs,
      ...(bench.profiles.length === 0 ? {} : { profiles: bench.profiles }),
      startup,
      ...(compression === undefined ? {} : { compression }),
    };
  } finally {
    log('cleaning up: gateway, loop Btrfs');
    await teardown.run();
  }
}

/** The last run's per-command logs and time -v files, kept beside the results for a look afterwards. */
async function keepLogs(work: string, resultsPath: string): Promise<void> {
  const target = join(dirname(resultsPath), 'logs');
  await rm(target, { recursive: true, force: true });
  await cp(join(work, 'logs'), target, { recursive: true }).catch(() => undefined);
}

async function writeReport(results: Results, docsDir: string): Promise<number> {
  const evaluation = evaluate(results);
  await mkdir(docsDir, { recursive: true });
  await writeFile(join(docsDir, 'benchmark.md'), renderMarkdown(results, evaluation));
  await writeFile(join(docsDir, CHART_FILE), renderSvg(results, evaluation));
  for (const line of summaryLines(evaluation, results.startup)) process.stdout.write(`${line}\n`);
  process.stdout.write(`wrote ${join(docsDir, 'benchmark.md')} and ${join(docsDir, CHART_FILE)}\n`);
  for (const target of evaluation.targets) (target.pass ? process.stdout : process.stderr).write(`${targetLine(target)}\n`);
  return evaluation.targets.every((target) => target.pass) ? 0 : 1;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message !== '') process.stderr.write(`bench: ${error.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const resultsPath = resolve(args.resultsPath ?? join(ROOT, 'bench/results/latest.json'));
  const docsDir = resolve(args.docsDir ?? join(ROOT, 'docs'));
  let results: Results;
  if (args.reportOnly) {
    results = JSON.parse(await readFile(resultsPath, 'utf8')) as Results;
  } else {
    if (process.getuid?.() !== 0) {
      process.stderr.write('bench: run as root (loop devices, mounts, btrfs send/receive)\n');
      return 2;
    }
    const executable = await ourExecutable(ROOT, args.executable);
    if (args.startupOnly) return startupOnly(args.workDir, executable);
    results = await benchmark(args.sizeBytes, args.rounds, args.profile, args.workDir, resultsPath, executable);
    await mkdir(dirname(resultsPath), { recursive: true });
    await writeFile(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
    log(`raw results in ${resultsPath}; ${Math.round(results.durationSeconds)} s in all`);
  }
  return writeReport(results, docsDir);
}

if (require.main === module) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (interruptedBy !== undefined) return;
      interruptedBy = signal;
      log(`${signal}: stopping the running command and cleaning up`);
      abort.abort();
      signalRunning('SIGTERM');
    });
  }
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = interruptedBy === undefined ? code : interruptedBy === 'SIGINT' ? 130 : 143;
    },
    (error: unknown) => {
      if (error instanceof Interrupted || interruptedBy !== undefined) {
        process.exitCode = interruptedBy === 'SIGTERM' ? 143 : 130;
        return;
      }
      process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
