// `pnpm bench`: builds a loop Btrfs with generated datasets of two sizes, starts a dedicated
// local gateway, and measures btrfs-to-s3 (its README config and tuned) against
// `btrfs send | aws s3 cp -` and `btrfs send | rclone rcat` (their own defaults, and matched to
// ours) and the restores, in interleaved rounds; then the client behind rate-limited links,
// the upload rate cap against restic's and rclone's, and the incremental and scaling checks.
// Writes bench/results/latest.json and docs/benchmark.md (+ chart).
// Exit 0: every target passes; 1: a target fails (the page is written anyway) or the run
// failed; 2: usage; 130/143: interrupted (everything started is stopped and removed).
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { type BenchArgs, describePlan, parseBenchArgs, USAGE, UsageError } from './args';
import { capRuns } from './cap';
import { CHART_FILE, renderSvg } from './chart';
import { planDataset, planTotals, writeDataset } from './dataset';
import { evaluate } from './evaluate';
import { Interrupted, sh, signalRunning } from './exec';
import { abort, CLI, errorText, GiB, LocalGateway, log, LOOP, MiB, ourSettings, RGW, ROOT, run, Teardown } from './harness';
import { linkRuns, NetnsLink } from './link';
import { describeMachine, loadAverage } from './machine';
import { renderMarkdown, renderPartial, summaryLines, targetLine } from './report';
import { startupLines } from './report-sections';
import type { DatasetInfo, Results, ScalePoint, Settings } from './results';
import { type Executable, ourExecutable, startupCase as runStartupCase } from './startup';
import { awsConfigFile, awsEnv, type Gateway, type OurConfig, ourConfigToml, ourEnv, q, rcloneEnv } from './tools';
import {
  type Bench,
  type BenchDataset,
  compressionCase,
  INCREMENTAL_CHANGE,
  type OurConfigRef,
  unitAws,
  unitIncremental,
  unitOurs,
  unitProfile,
  unitRclone,
  unitScale,
  unitSealed,
  unitSend,
  unitTuned,
} from './units';

/** Timed runs of the start-up case: a few seconds in all. */
const STARTUP_RUNS = 9;
/** The peers' own defaults, as their documentation gives them (the default runs set none). */
const AWS_DEFAULTS = { partSizeBytes: 8 * MiB, concurrency: 10 };
const RCLONE_DEFAULTS = { partSizeBytes: 5 * MiB, concurrency: 4 };

let interruptedBy: NodeJS.Signals | undefined;

const startupCase = (work: string, gateway: Gateway, executable: Executable, subvolume: string) =>
  runStartupCase({ work, root: ROOT, gateway, executable, subvolume, runs: STARTUP_RUNS, signal: abort.signal, log });

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

/** Generates one dataset in its own subvolume and takes the read-only snapshot the peers send. */
async function makeDataset(
  mnt: string,
  size: BenchArgs['sizes'][number],
): Promise<{ info: DatasetInfo; subvolume: string; snapshot: string }> {
  const plan = planDataset(size.bytes);
  const totals = planTotals(plan);
  const subvolume = join(mnt, `data-${size.id}`);
  await run(`btrfs -q subvolume create ${q(subvolume)}`);
  log(`dataset ${size.id}: ${(totals.bytes / GiB).toFixed(2)} GiB, ${totals.largeFiles} large files, ${totals.smallFiles} small files`);
  const start = Date.now();
  await writeDataset(subvolume, plan, undefined, abort.signal);
  const generateSeconds = (Date.now() - start) / 1000;
  const snapshot = join(mnt, 'bench-snap', `data-${size.id}`);
  await run(`btrfs -q subvolume snapshot -r ${q(subvolume)} ${q(snapshot)} && sync`);
  const streamBytes = Number((await run(`btrfs send -q ${q(snapshot)} | wc -c`)).stdout.trim());
  log(`  written in ${generateSeconds.toFixed(1)} s; send stream ${(streamBytes / GiB).toFixed(2)} GiB`);
  return { info: { id: size.id, sizeBytes: size.bytes, ...totals, streamBytes, generateSeconds }, subvolume, snapshot };
}

async function benchmark(args: BenchArgs, resultsPath: string, executable: Executable): Promise<Results> {
  const started = new Date();
  const loadStart = loadAverage();
  const compare = args.mode === 'all';
  const withLink = args.linkRatesBitsPerSecond.length > 0 && (compare || args.mode === 'link-only');
  const withCap = args.cap !== undefined && (compare || args.mode === 'cap-only');
  // The rate-limited and rate cap runs use the smallest dataset; alone, they need no other.
  const sizes = compare ? args.sizes : args.sizes.slice(0, 1);
  const work = args.workDir === undefined ? await mkdtemp('/tmp/btrfs-to-s3-bench.') : resolve(args.workDir);
  const teardown = new Teardown();
  if (args.workDir === undefined) teardown.add('remove the work directory', () => rm(work, { recursive: true, force: true }));
  teardown.add('keep the logs', () => keepLogs(work, resultsPath));
  try {
    log(describePlan(args));
    const logs = join(work, 'logs');
    await mkdir(logs, { recursive: true });
    const machine = await describeMachine();
    const restic = withCap ? (await run('restic version')).stdout.split(' ').slice(0, 2).join(' ') || 'unknown' : undefined;

    // A sparse image: room for the datasets, a restore of the largest and the incremental's changes.
    const total = sizes.reduce((sum, size) => sum + size.bytes, 0);
    const largestBytes = sizes.at(-1)?.bytes ?? 0;
    const loopBytes = Math.ceil((2 * total + 2 * largestBytes + 2 * GiB) / MiB);
    const loopDir = join(work, 'btrfs');
    teardown.add('destroy the loop Btrfs', () => sh(`${q(LOOP)} destroy ${q(loopDir)}`));
    log(`loop Btrfs (${loopBytes} MiB sparse) in ${loopDir}`);
    await run(`${q(LOOP)} create ${q(loopDir)} ${loopBytes}M`);
    const mnt = join(loopDir, 'mnt');
    for (const dir of ['snapshots', 'snapshots-inc', 'snapshots-sealed', 'snapshots-text', 'bench-snap', 'restore'])
      await mkdir(join(mnt, dir), { recursive: true });
    const made = [];
    for (const size of sizes) made.push(await makeDataset(mnt, size));
    const smallest = made[0];
    const largest = made.at(-1);
    if (smallest === undefined || largest === undefined) throw new Error('no dataset');

    const scaleSubvolume = join(mnt, 'data-quarter');
    const scaling: ScalePoint[] = made.map((d) => ({
      tool: 'ours-backup',
      dataset: d.info.id,
      label: d.info.id,
      subvolume: d.subvolume,
      bytes: d.info.bytes,
    }));
    if (compare) {
      await run(`btrfs -q subvolume create ${q(scaleSubvolume)}`);
      await run(`cp -a --reflink=always ${q(join(largest.subvolume, 'a'))} ${q(scaleSubvolume)}/`);
      const quarter = planDataset(largest.info.sizeBytes).groups.find((group) => group.name === 'a');
      const bytes = quarter === undefined ? 0 : [...quarter.large, ...quarter.small].reduce((a, b) => a + b, 0);
      scaling.unshift({
        tool: 'scale-0.25',
        dataset: largest.info.id,
        label: `0.25x ${largest.info.id}`,
        subvolume: scaleSubvolume,
        bytes,
      });
      await run(`btrfs -q subvolume create ${q(join(mnt, 'text'))}`);
    }

    // The client's namespace exists before the gateway starts: radosgw listens on its veth's end too.
    let link: NetnsLink | undefined;
    if (withLink) {
      const linkDir = join(work, 'link');
      teardown.add('remove the network namespace and its veth pair', () => sh(NetnsLink.destroyCommand(linkDir)));
      link = await NetnsLink.create(linkDir);
    }
    // Memstore holds at most one tool's objects at a time (each run's are deleted and
    // collected once measured), plus the incremental check's full and incremental.
    const memstoreBytes = Math.ceil(2 * largestBytes + 2 * GiB);
    const gatewayDir = join(work, 'rgw');
    teardown.add('stop the gateway', () => sh(`${q(RGW)} stop ${q(gatewayDir)}`));
    log(`local gateway in ${gatewayDir} (memstore ${(memstoreBytes / GiB).toFixed(1)} GiB)`);
    const gateway = await LocalGateway.start(gatewayDir, memstoreBytes, link?.hostAddress);
    log(
      `  ${gateway.s3.endpoint}${link === undefined ? '' : ` and http://${link.hostAddress}:${new URL(gateway.s3.endpoint).port}`}, bucket ${gateway.s3.bucket}`,
    );
    const startup = compare ? await startupCase(work, gateway.s3, executable, smallest.subvolume) : undefined;
    for (const line of startup === undefined ? [] : startupLines(startup)) log(`  ${line}`);

    const awsDefaultsConfig = join(work, 'aws-config');
    const awsMatchedConfig = join(work, 'aws-config-matched');
    await writeFile(awsDefaultsConfig, awsConfigFile(gateway.s3));
    await writeFile(awsMatchedConfig, awsConfigFile(gateway.s3, args.tuned));
    const tuned = { ...args.tuned, checksumMode: 'when_required' };
    const writeConfig = async (config: OurConfig, tuning?: typeof tuned): Promise<OurConfigRef> => {
      const file = join(work, `config-${config.name}.toml`);
      await mkdir(join(work, `state-${config.name}`), { recursive: true });
      await writeFile(file, ourConfigToml(config, gateway.s3, tuning));
      return { file, prefix: config.prefix, subvolume: config.subvolume };
    };
    const snapshotsDir = join(mnt, 'snapshots');
    const datasets: BenchDataset[] = [];
    for (const d of made) {
      const id = d.info.id.toLowerCase().replace(/[^a-z0-9]/g, '');
      datasets.push({
        ...d,
        ours: await writeConfig({ workDir: work, name: `ours-${id}`, subvolume: d.subvolume, snapshotsDir, prefix: `bench-ours-${id}` }),
        tuned: await writeConfig(
          { workDir: work, name: `tuned-${id}`, subvolume: d.subvolume, snapshotsDir, prefix: `bench-tuned-${id}` },
          tuned,
        ),
      });
    }
    const identityFile = join(work, 'bench.key');
    const recipient = compare ? (await run(`${q(CLI)} key generate --output ${q(identityFile)}`)).stdout.trim() : '';
    const bench: Bench = {
      work,
      mnt,
      logs,
      gateway,
      datasets,
      envs: {
        aws: awsEnv(gateway.s3, awsDefaultsConfig),
        awsMatched: awsEnv(gateway.s3, awsMatchedConfig),
        rclone: rcloneEnv(gateway.s3),
        ours: ourEnv(gateway.s3),
      },
      matched: args.tuned,
      sealed: await writeConfig({
        workDir: work,
        name: 'sealed',
        subvolume: smallest.subvolume,
        snapshotsDir: join(mnt, 'snapshots-sealed'),
        prefix: 'bench-sealed',
        compression: true,
        encryption: { recipient, identityFile },
      }),
      inc: await writeConfig({
        workDir: work,
        name: 'inc',
        subvolume: largest.subvolume,
        snapshotsDir: join(mnt, 'snapshots-inc'),
        prefix: 'bench-inc',
      }),
      scale: await writeConfig({ workDir: work, name: 'scale', subvolume: scaleSubvolume, snapshotsDir, prefix: 'bench-scale' }),
      text: await writeConfig({
        workDir: work,
        name: 'text',
        subvolume: join(mnt, 'text'),
        snapshotsDir: join(mnt, 'snapshots-text'),
        prefix: 'bench-text',
        compression: true,
      }),
      runs: [],
      profiles: [],
    };
    const firstDataset = datasets[0];
    if (firstDataset === undefined) throw new Error('no dataset');
    // What our configs come to, from the CLI itself: the report's settings and RSS bounds follow its defaults.
    const settings: Settings = {
      rounds: compare ? args.rounds : 0,
      defaults: await ourSettings(firstDataset.ours.file),
      tuned: await ourSettings(firstDataset.tuned.file),
      awsDefaults: AWS_DEFAULTS,
      rcloneDefaults: RCLONE_DEFAULTS,
      matched: args.tuned,
      memstoreBytes,
      executable: relative(ROOT, CLI),
    };

    let compression: Results['compression'];
    if (compare) {
      // Round-robin: every unit once per round, the order rotated each round.
      const small = datasets[0];
      const large = datasets.at(-1);
      const units: { name: string; go: (round: number) => Promise<void> }[] = [];
      for (const d of datasets) {
        const id = d.info.id;
        units.push(
          { name: `send ${id}`, go: (r) => unitSend(bench, d, r) },
          { name: `ours + restores ${id}`, go: (r) => unitOurs(bench, d, r) },
          { name: `awscli + restore ${id}`, go: (r) => unitAws(bench, d, r, 'defaults') },
          { name: `rclone ${id}`, go: (r) => unitRclone(bench, d, r, 'defaults') },
        );
        // Diagnosis (tuned ours, matched peers) and zstd + age on the smallest; scaling on the largest.
        if (d === small)
          units.push(
            { name: `ours tuned ${id}`, go: (r) => unitTuned(bench, d, r) },
            { name: `awscli matched ${id}`, go: (r) => unitAws(bench, d, r, 'matched') },
            { name: `rclone matched ${id}`, go: (r) => unitRclone(bench, d, r, 'matched') },
            { name: `ours zstd + age ${id}`, go: (r) => unitSealed(bench, d, r) },
          );
        if (d === large) units.push({ name: `ours 0.25x ${id}`, go: (r) => unitScale(bench, d, r) });
      }
      for (let round = 1; round <= args.rounds; round++) {
        const shift = (round - 1) % units.length;
        const order = [...units.slice(shift), ...units.slice(0, shift)];
        log(`round ${round}/${args.rounds}: ${order.map((unit) => unit.name).join(', ')}`);
        for (const unit of order) await unit.go(round);
      }
    }
    const linkRecords =
      link === undefined
        ? undefined
        : await linkRuns(bench, link, {
            ratesBitsPerSecond: args.linkRatesBitsPerSecond,
            rounds: args.linkRounds,
            rttMs: args.linkRttMs,
            dataset: firstDataset,
          });
    const capRecords =
      args.cap === undefined || !withCap
        ? undefined
        : await capRuns(bench, { ...args.cap, rounds: args.linkRounds, dataset: firstDataset });
    if (compare) {
      log('compression of text-heavy data (one zstd backup)');
      compression = await compressionCase(bench, Math.max(64 * MiB, Math.round(firstDataset.info.sizeBytes / 8)));
      if (args.profile) {
        log(`CPU profiles of our backup and restore, ${firstDataset.info.id} (extra runs, not compared)`);
        await unitProfile(bench, firstDataset);
      }
      // Last: it changes the data the runs above back up.
      const large = datasets.at(-1) ?? firstDataset;
      for (let rep = 1; rep <= args.rounds; rep++) {
        log(
          `incremental check ${rep}/${args.rounds}, ${large.info.id}: full, change ${INCREMENTAL_CHANGE * 100}%, incremental, one new file, incremental`,
        );
        await unitIncremental(bench, large, rep, args.profile && rep === args.rounds);
      }
    }

    const finished = new Date();
    return {
      schema: 2,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationSeconds: (finished.getTime() - started.getTime()) / 1000,
      machine: { ...machine, ...(restic === undefined ? {} : { restic }), loadAverage: { start: loadStart, end: loadAverage() } },
      settings,
      datasets: datasets.map((d) => d.info),
      scaling: compare ? scaling : [],
      runs: bench.runs,
      ...(linkRecords === undefined
        ? {}
        : {
            link: {
              settings: {
                ratesBitsPerSecond: args.linkRatesBitsPerSecond,
                rounds: args.linkRounds,
                rttMs: args.linkRttMs,
                dataset: firstDataset.info.id,
              },
              runs: linkRecords,
            },
          }),
      ...(capRecords === undefined || args.cap === undefined
        ? {}
        : {
            cap: {
              settings: { bytesPerSecond: args.cap.bytesPerSecond, text: args.cap.text, dataset: firstDataset.info.id },
              runs: capRecords,
            },
          }),
      ...(bench.profiles.length === 0 ? {} : { profiles: bench.profiles }),
      ...(startup === undefined ? {} : { startup }),
      ...(compression === undefined ? {} : { compression }),
    };
  } finally {
    log('cleaning up: gateway, network namespace, loop Btrfs');
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
  return printTargets(evaluation.targets);
}

function printTargets(targets: ReturnType<typeof evaluate>['targets']): number {
  for (const target of targets) (target.pass ? process.stdout : process.stderr).write(`${targetLine(target)}\n`);
  return targets.every((target) => target.pass) ? 0 : 1;
}

async function readResults(path: string): Promise<Results> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as { schema?: number };
  if (parsed.schema !== 2)
    throw new Error(
      `${path} holds results of schema ${String(parsed.schema)}, from before this page's layout (schema 2): run pnpm bench again`,
    );
  return parsed as Results;
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
  const partial = args.mode === 'link-only' || args.mode === 'cap-only';
  const defaultResults = `bench/results/${partial ? (args.mode === 'link-only' ? 'link' : 'cap') : 'latest'}.json`;
  const resultsPath = resolve(args.resultsPath ?? join(ROOT, defaultResults));
  const docsDir = resolve(args.docsDir ?? join(ROOT, 'docs'));
  if (args.mode === 'report-only') return writeReport(await readResults(resultsPath), docsDir);
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: run as root (loop devices, mounts, network namespaces, btrfs send/receive)\n');
    return 2;
  }
  const executable = await ourExecutable(ROOT, args.executable);
  if (args.mode === 'startup-only') return startupOnly(args.workDir, executable);
  const results = await benchmark(args, resultsPath, executable);
  await mkdir(dirname(resultsPath), { recursive: true });
  await writeFile(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  log(`raw results in ${resultsPath}; ${Math.round(results.durationSeconds)} s in all`);
  if (!partial) return writeReport(results, docsDir);
  // A part alone prints its sections; the page stays as the last whole run left it.
  const evaluation = evaluate(results);
  process.stdout.write(`${renderPartial(results, evaluation)}\n`);
  return printTargets(evaluation.targets);
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
      process.stderr.write(`bench: ${errorText(error)}\n`);
      process.exitCode = 1;
    },
  );
}
