// What every part of the benchmark shares: the log, commands that stop on an interrupt, the
// cleanup list, the local gateway, and one timed run of a command (measure).
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sh } from './exec';
import type { OurSettings, RunRecord, ToolId } from './results';
import { cpuSeconds, parseTimeV } from './time-v';
import { releaseLauncher } from './startup';
import { awsDelete, type Gateway, q, type TimeFiles } from './tools';

export const ROOT = resolve(__dirname, '../..');
/** The checkout's executable: the profiled runs use it (their Node flags come from its shebang). */
export const CHECKOUT_CLI = join(ROOT, 'apps/cli/bin/run.js');
/**
 * Ours as a user runs it: the release's launcher, which bench/run.sh builds before every
 * run (scripts/release.sh), else (bench/dist/run.js started by hand) the checkout's.
 */
export const CLI = releaseLauncher(ROOT) ?? CHECKOUT_CLI;
export const LOOP = join(ROOT, 'tools/testenv/bin/loop-btrfs.sh');
export const RGW = join(ROOT, 'tools/testenv/bin/rgw.sh');
export const NETNS_LINK = join(ROOT, 'tools/testenv/bin/netns-link.sh');
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export const abort = new AbortController();
const startedAt = Date.now();

export function log(message: string): void {
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  process.stderr.write(`bench [${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}] ${message}\n`);
}

/** A bash command that is refused once the benchmark is interrupted (its process group is stopped then). */
export const run = (command: string, env?: Record<string, string | null>) =>
  sh(command, { signal: abort.signal, ...(env === undefined ? {} : { env }) });

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Cleanup steps, run last-in first-out, also after a failure or an interrupt. */
export class Teardown {
  private readonly steps: { what: string; step: () => Promise<unknown> }[] = [];

  add(what: string, step: () => Promise<unknown>): void {
    this.steps.push({ what, step });
  }

  async run(): Promise<void> {
    for (const { what, step } of this.steps.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`cleanup: ${what} failed: ${errorText(error)}`);
      }
    }
  }
}

export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) env[match[1]] = match[2];
  }
  return env;
}

function required(env: Record<string, string>, key: string, file: string): string {
  const value = env[key];
  if (value === undefined || value === '') throw new Error(`${file} has no ${key}`);
  return value;
}

/** The gateway this run started: its S3 coordinates, and its daemons for CPU accounting. */
export class LocalGateway {
  private ticksPerSecond = 100;

  constructor(
    readonly dir: string,
    readonly s3: Gateway,
  ) {}

  /** `extraAddress`: an address of this namespace radosgw also listens on (a veth's end), same port. */
  static async start(dir: string, memstoreBytes: number, extraAddress?: string): Promise<LocalGateway> {
    const extra = extraAddress === undefined ? '' : `RGW_EXTRA_ADDRESS=${q(extraAddress)} `;
    // A loaded machine sometimes fails a cluster start; rgw.sh then stops what it started.
    for (let attempt = 1; ; attempt++) {
      try {
        await run(`${extra}RGW_MEMSTORE_BYTES=${memstoreBytes} ${q(RGW)} start ${q(dir)}`);
        break;
      } catch (error) {
        if (attempt === 3 || abort.signal.aborted) throw error;
        log(`  gateway start failed (attempt ${attempt}), starting again: ${errorText(error).split('\n').slice(-2).join(' ')}`);
        await sh(`${q(RGW)} stop ${q(dir)}`);
      }
    }
    const file = join(dir, 'env');
    const env = parseEnvFile(await readFile(file, 'utf8'));
    const gateway = new LocalGateway(dir, {
      endpoint: required(env, 'BTRFS_S3_TEST_ENDPOINT', file),
      region: required(env, 'BTRFS_S3_TEST_REGION', file),
      bucket: required(env, 'BTRFS_S3_TEST_BUCKET', file),
      accessKeyId: required(env, 'AWS_ACCESS_KEY_ID', file),
      secretAccessKey: required(env, 'AWS_SECRET_ACCESS_KEY', file),
    });
    gateway.ticksPerSecond = Number((await run('getconf CLK_TCK')).stdout.trim()) || 100;
    return gateway;
  }

  /** The same gateway reached at another host (the veth's end, or a relay): path-style URLs keep working. */
  at(endpoint: string): Gateway {
    return { ...this.s3, endpoint };
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

/** The send stream bytes of the backup our `backup --json` reports, checked to be of the kind expected. */
export function backupMetrics(stdout: string, expectKind: 'full' | 'inc'): { bytes: number } {
  const parsed = JSON.parse(stdout) as BackupJson;
  const outcome = parsed.outcomes?.[0];
  if (outcome?.result !== 'published' || outcome.metrics?.bytes === undefined)
    throw new Error(`backup did not publish: ${stdout.slice(0, 500)}`);
  if (outcome.metrics.kind !== expectKind)
    throw new Error(`expected a ${expectKind} backup, the tool ran a ${outcome.metrics.kind ?? 'nothing'}`);
  return { bytes: outcome.metrics.bytes };
}

export function restoredBytes(stdout: string): number | undefined {
  return (JSON.parse(stdout) as { bytes?: number }).bytes;
}

/** What `config show --json` says one of our configs comes to. */
export async function ourSettings(configFile: string): Promise<OurSettings> {
  const shown = JSON.parse((await run(`${q(CLI)} config show --json --config ${q(configFile)}`)).stdout) as {
    s3?: { part_size_bytes?: number; concurrency?: number; chunk_size_bytes?: number; checksum_mode?: string };
  };
  const s3 = shown.s3;
  if (s3?.part_size_bytes === undefined || s3.concurrency === undefined || s3.chunk_size_bytes === undefined)
    throw new Error(`config show --json --config ${configFile} printed no s3 part size, concurrency or chunk size`);
  return {
    partSizeBytes: s3.part_size_bytes,
    concurrency: s3.concurrency,
    chunkSizeBytes: s3.chunk_size_bytes,
    checksumMode: s3.checksum_mode ?? 'unknown',
  };
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
export async function settle(mnt: string): Promise<void> {
  await run(`sync && btrfs subvolume sync ${q(mnt)}`);
}

/** Deletes every subvolume received under dir (the restore targets), then dir itself. */
export async function removeReceived(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) await run(`btrfs -q subvolume delete ${q(join(dir, name))}`);
  await rm(dir, { recursive: true, force: true });
}

/** Where a timed run's files go, and what its CPU accounting needs. */
export interface MeasureContext {
  readonly mnt: string;
  readonly logs: string;
  readonly gateway: LocalGateway;
}

export function timeFiles(context: MeasureContext, name: string, pipeline: boolean): TimeFiles {
  const base = join(context.logs, name);
  return { main: `${base}.time`, ...(pipeline ? { source: `${base}.other.time` } : {}) };
}

export interface Measured {
  readonly record: RunRecord;
  readonly stdout: string;
}

/**
 * Runs one timed command (after the machine settles) and returns its record: the harness's
 * wall time, what `time -v` says of each side, the gateway's CPU and the machine's load.
 */
export async function measure(
  context: MeasureContext,
  what: { readonly tool: ToolId; readonly dataset: string; readonly round: number; readonly name: string },
  command: string,
  files: TimeFiles,
  env: Record<string, string | null>,
  streamBytes: (stdout: string) => number,
  extra: Partial<RunRecord> = {},
): Promise<Measured> {
  const settleStart = Date.now();
  await settle(context.mnt);
  const settleSeconds = (Date.now() - settleStart) / 1000;
  const gatewayBefore = await context.gateway.cpuSeconds();
  const machineBefore = await machineTicks();
  const result = await run(command, env);
  const machineAfter = await machineTicks();
  const gatewayCpuSeconds = (await context.gateway.cpuSeconds()) - gatewayBefore;
  const machineBusy = (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total);
  await writeFile(join(context.logs, `${what.name}.stderr`), result.stderr);
  const main = parseTimeV(await readFile(files.main, 'utf8'));
  const source = files.source === undefined ? undefined : parseTimeV(await readFile(files.source, 'utf8'));
  const strip = ({ wallSeconds, userSeconds, systemSeconds, maxRssKiB }: typeof main) => ({
    wallSeconds,
    userSeconds,
    systemSeconds,
    maxRssKiB,
  });
  const record: RunRecord = {
    tool: what.tool,
    dataset: what.dataset,
    round: what.round,
    wallSeconds: result.wallSeconds,
    streamBytes: streamBytes(result.stdout),
    main: strip(main),
    ...(source === undefined ? {} : { source: strip(source) }),
    gatewayCpuSeconds,
    machineBusy,
    ...extra,
  };
  log(
    `  ${what.tool} ${what.dataset} r${what.round}: ${record.wallSeconds.toFixed(2)} s, ${(record.streamBytes / record.wallSeconds / 1e6).toFixed(0)} MB/s, ` +
      `RSS ${(record.main.maxRssKiB / 1024).toFixed(0)} MiB, CPU ${cpuSeconds(record.main).toFixed(1)} s` +
      (source === undefined ? '' : ` (+${cpuSeconds(source).toFixed(1)} s other side)`) +
      `, gateway CPU ${gatewayCpuSeconds.toFixed(1)} s, machine ${(machineBusy * 100).toFixed(0)}% busy (settled ${settleSeconds.toFixed(1)} s before)`,
  );
  return { record, stdout: result.stdout };
}
