// The results page (docs/benchmark.md) and its chart (docs/benchmark-throughput.svg),
// rendered from the raw results alone, and the targets of issue 8 with PASS/FAIL.
import { type ProfiledRun, type Results, type RunRecord, rssBoundBytes, type StartupResult, type ToolId } from './results';
import { linearFit, type LinearFit, ratio, type Summary, summarize } from './stats';
import { cpuSeconds } from './time-v';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

export const LABELS: Record<ToolId, string> = {
  send: '`btrfs send > /dev/null`',
  'ours-backup': 'btrfs-to-s3 `backup --full`',
  'aws-upload': '`btrfs send | aws s3 cp -`',
  'rclone-upload': '`btrfs send | rclone rcat`',
  'ours-restore': 'btrfs-to-s3 `restore --verify none`',
  'ours-restore-sample': 'btrfs-to-s3 `restore --verify sample`',
  'aws-restore': '`aws s3 cp - | btrfs receive`',
  'scale-0.25': 'btrfs-to-s3 `backup --full`, 0.25x',
  'scale-0.5': 'btrfs-to-s3 `backup --full`, 0.5x',
  'inc-full': 'btrfs-to-s3 `backup --full`',
  inc: 'btrfs-to-s3 `backup --once` (incremental)',
  'sealed-backup': 'btrfs-to-s3 `backup --full`, zstd + age',
  'sealed-restore': 'btrfs-to-s3 `restore --verify none`, zstd + age',
};

/** Chart labels: short, one or two lines each. */
const CHART: Partial<Record<ToolId, { lines: string[]; kind: 'source' | 'ours' | 'peer' }>> = {
  send: { lines: ['btrfs send', '> /dev/null'], kind: 'source' },
  'ours-backup': { lines: ['btrfs-to-s3', 'backup'], kind: 'ours' },
  'aws-upload': { lines: ['send |', 'aws s3 cp'], kind: 'peer' },
  'rclone-upload': { lines: ['send |', 'rclone rcat'], kind: 'peer' },
  'ours-restore': { lines: ['btrfs-to-s3', 'restore'], kind: 'ours' },
  'ours-restore-sample': { lines: ['restore', '(verify sample)'], kind: 'ours' },
  'aws-restore': { lines: ['aws s3 cp |', 'btrfs receive'], kind: 'peer' },
};

export const CHART_FILE = 'benchmark-throughput.svg';
const RESTORES: ReadonlySet<ToolId> = new Set(['ours-restore', 'ours-restore-sample', 'aws-restore']);

export interface ToolStats {
  readonly tool: ToolId;
  readonly n: number;
  readonly wall: Summary;
  /** MB/s (10^6 bytes) of the send stream. */
  readonly throughput: Summary;
  readonly rssMiB: Summary;
  /** The measured process's CPU seconds (ours includes the btrfs child it waits for). */
  readonly cpu: Summary;
  /** Both sides of a pipeline; for ours the same as cpu. */
  readonly pipelineCpu: Summary;
  readonly streamBytes: Summary;
  readonly gatewayCpu?: Summary;
  /** Share of the machine (all cores) busy during the run, this benchmark and everything else. */
  readonly machineBusy?: Summary;
}

export interface Target {
  readonly id: 'backup' | 'restore' | 'rss' | 'incremental' | 'sealed-backup-cpu' | 'sealed-restore-cpu' | 'compression';
  readonly title: string;
  readonly measured: string;
  readonly limit: string;
  readonly pass: boolean;
  readonly detail: string;
}

export interface Evaluation {
  readonly stats: Partial<Record<ToolId, ToolStats>>;
  readonly targets: readonly Target[];
  readonly scalingFit?: LinearFit;
}

function runsOf(results: Results, tool: ToolId): RunRecord[] {
  return results.runs.filter((run) => run.tool === tool);
}

export function toolStats(runs: readonly RunRecord[]): ToolStats | undefined {
  const first = runs[0];
  if (first === undefined) return undefined;
  const gateway = runs.map((run) => run.gatewayCpuSeconds).filter((value): value is number => value !== undefined);
  const busy = runs.map((run) => run.machineBusy).filter((value): value is number => value !== undefined);
  return {
    tool: first.tool,
    n: runs.length,
    wall: summarize(runs.map((run) => run.wallSeconds)),
    throughput: summarize(runs.map((run) => run.streamBytes / run.wallSeconds / 1e6)),
    rssMiB: summarize(runs.map((run) => run.main.maxRssKiB / 1024)),
    cpu: summarize(runs.map((run) => cpuSeconds(run.main))),
    pipelineCpu: summarize(runs.map((run) => cpuSeconds(run.main) + (run.source === undefined ? 0 : cpuSeconds(run.source)))),
    streamBytes: summarize(runs.map((run) => run.streamBytes)),
    ...(gateway.length === runs.length ? { gatewayCpu: summarize(gateway) } : {}),
    ...(busy.length === runs.length ? { machineBusy: summarize(busy) } : {}),
  };
}

const f2 = (value: number) => value.toFixed(2);
const f1 = (value: number) => value.toFixed(1);
const f0 = (value: number) => value.toFixed(0);
const pct = (value: number) => `${(value * 100).toFixed(0)}%`;

export function evaluate(results: Results): Evaluation {
  const stats: Partial<Record<ToolId, ToolStats>> = {};
  for (const tool of Object.keys(LABELS) as ToolId[]) {
    const summary = toolStats(runsOf(results, tool));
    if (summary !== undefined) stats[tool] = summary;
  }
  const targets: Target[] = [];
  const missing = (id: Target['id'], title: string, what: string): Target => ({
    id,
    title,
    measured: 'no data',
    limit: '-',
    pass: false,
    detail: `no ${what} runs in the results`,
  });

  // Full backup <= 0.9 x the faster of the two upload peers.
  const ours = stats['ours-backup'];
  const peers = [stats['aws-upload'], stats['rclone-upload']].filter((s): s is ToolStats => s !== undefined);
  const backupTitle = 'Full backup wall time <= 0.9 x the faster upload peer';
  if (ours === undefined || peers.length === 0) {
    targets.push(missing('backup', backupTitle, 'backup or peer'));
  } else {
    const faster = peers.reduce((a, b) => (b.wall.median < a.wall.median ? b : a));
    const limit = 0.9 * faster.wall.median;
    const r = ours.wall.median / faster.wall.median;
    targets.push({
      id: 'backup',
      title: backupTitle,
      measured: `${f2(ours.wall.median)} s`,
      limit: `${f2(limit)} s (0.9 x ${f2(faster.wall.median)} s, ${LABELS[faster.tool]})`,
      pass: ours.wall.median <= limit,
      detail: `ours/peer ${f2(r)}, target <= 0.90 (${ours.wall.median <= limit ? `${pct(1 - ours.wall.median / limit)} under the limit` : `${pct(ours.wall.median / limit - 1)} over the limit`})`,
    });
  }

  // Restore <= 0.9 x the peer restore pipeline.
  const restore = stats['ours-restore'];
  const peerRestore = stats['aws-restore'];
  const restoreTitle = 'Restore wall time <= 0.9 x the peer restore pipeline';
  if (restore === undefined || peerRestore === undefined) {
    targets.push(missing('restore', restoreTitle, 'restore'));
  } else {
    const limit = 0.9 * peerRestore.wall.median;
    targets.push({
      id: 'restore',
      title: restoreTitle,
      measured: `${f2(restore.wall.median)} s`,
      limit: `${f2(limit)} s (0.9 x ${f2(peerRestore.wall.median)} s)`,
      pass: restore.wall.median <= limit,
      detail: `ours/peer ${f2(restore.wall.median / peerRestore.wall.median)}, target <= 0.90 (${restore.wall.median <= limit ? `${pct(1 - restore.wall.median / limit)} under the limit` : `${pct(restore.wall.median / limit - 1)} over the limit`})`,
    });
  }

  // Peak RSS <= concurrency x part size + 100 MiB at every dataset size.
  const bound = rssBoundBytes(results.settings) / MiB;
  const rssTitle = `Peak RSS <= concurrency x part size + 100 MiB (${f0(bound)} MiB) at every size`;
  const sizes = results.dataset.scaling.map((point) => ({ point, stats: stats[point.tool] }));
  if (sizes.length === 0 || sizes.some((size) => size.stats === undefined)) {
    targets.push(missing('rss', rssTitle, 'scaling'));
  } else {
    const worst = Math.max(...sizes.map((size) => size.stats?.rssMiB.median ?? Infinity));
    targets.push({
      id: 'rss',
      title: rssTitle,
      measured: `${f0(worst)} MiB (largest median)`,
      limit: `${f0(bound)} MiB`,
      pass: worst <= bound,
      detail: sizes.map((size) => `${size.point.label}: ${f0(size.stats?.rssMiB.median ?? NaN)} MiB`).join(', '),
    });
  }

  // Incremental of a 5% change <= 10% of the full's time.
  const incFull = stats['inc-full'];
  const inc = stats.inc;
  const incTitle = 'Incremental of a 5% change <= 10% of the full backup time';
  if (incFull === undefined || inc === undefined) {
    targets.push(missing('incremental', incTitle, 'incremental'));
  } else {
    const share = inc.wall.median / incFull.wall.median;
    targets.push({
      id: 'incremental',
      title: incTitle,
      measured: `${f2(inc.wall.median)} s (${pct(share)} of ${f2(incFull.wall.median)} s)`,
      limit: `${f2(0.1 * incFull.wall.median)} s (10%)`,
      pass: share <= 0.1,
      detail: `incremental/full ${f2(share)}, target <= 0.10`,
    });
  }

  // Issue 17: zstd + age costs at most 1.3x the plain run's CPU per GiB, on incompressible data.
  for (const [id, sealed, plain, what] of [
    ['sealed-backup-cpu', 'sealed-backup', 'ours-backup', 'backup'],
    ['sealed-restore-cpu', 'sealed-restore', 'ours-restore', 'restore'],
  ] as const) {
    const title = `Encrypted, compressed ${what} CPU per GiB <= 1.3 x the plain ${what}'s (incompressible data)`;
    const a = stats[sealed];
    const b = stats[plain];
    if (a === undefined || b === undefined) {
      targets.push(missing(id, title, `${sealed} or ${plain}`));
      continue;
    }
    const perGiB = (s: ToolStats) => s.cpu.median / (s.streamBytes.median / GiB);
    const r = perGiB(a) / perGiB(b);
    targets.push({
      id,
      title,
      measured: `${f2(perGiB(a))} s/GiB`,
      limit: `${f2(1.3 * perGiB(b))} s/GiB (1.3 x ${f2(perGiB(b))} s/GiB)`,
      pass: r <= 1.3,
      detail: `zstd + age / plain ${f2(r)}, target <= 1.30`,
    });
  }
  const compressionTitle = "zstd stores at most 70% of a text-heavy send stream's bytes";
  const compression = results.compression;
  if (compression === undefined) targets.push(missing('compression', compressionTitle, 'compression'));
  else {
    const share = compression.storedBytes / compression.streamBytes;
    targets.push({
      id: 'compression',
      title: compressionTitle,
      measured: `${bytes(compression.storedBytes)} of ${bytes(compression.streamBytes)} (${pct(share)})`,
      limit: '70%',
      pass: share <= 0.7,
      detail: `stored/stream ${f2(share)}, target <= 0.70`,
    });
  }

  const points = sizes.flatMap((size) =>
    size.stats === undefined ? [] : [{ x: size.stats.streamBytes.median / GiB, y: size.stats.wall.median }],
  );
  const fit = linearFit(points);
  return { stats, targets, ...(fit === undefined ? {} : { scalingFit: fit }) };
}

/** Multipart parts of a stream: its chunks (s3.chunk_size_bytes) each cut into parts (s3.part_size_bytes). */
export function partsOf(streamBytes: number, settings: Pick<Results['settings'], 'partSizeBytes' | 'chunkSizeBytes'>): number {
  const fullChunks = Math.floor(streamBytes / settings.chunkSizeBytes);
  const rest = streamBytes - fullChunks * settings.chunkSizeBytes;
  return fullChunks * Math.ceil(settings.chunkSizeBytes / settings.partSizeBytes) + Math.ceil(rest / settings.partSizeBytes);
}

function range(summary: Summary, format: (value: number) => string): string {
  return summary.n > 1 ? `${format(summary.median)} (${format(summary.min)}-${format(summary.max)})` : format(summary.median);
}

function ratioCell(ours: number | undefined, peer: number | undefined): string {
  const r = ratio(ours, peer);
  return r === undefined ? '-' : f2(r);
}

function bytes(value: number): string {
  if (value >= GiB) return `${(value / GiB).toFixed(2)} GiB`;
  if (value >= MiB) return `${(value / MiB).toFixed(1)} MiB`;
  return `${(value / 1024).toFixed(1)} KiB`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // A | in a cell (even inside backticks) would end the cell in GitHub's tables.
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function toolRows(evaluation: Evaluation, tools: readonly ToolId[]): string[][] {
  return tools.flatMap((tool) => {
    const s = evaluation.stats[tool];
    if (s === undefined) return [];
    return [
      [
        LABELS[tool],
        String(s.n),
        range(s.wall, f2),
        range(s.throughput, f0),
        range(s.rssMiB, f0),
        range(s.cpu, f1),
        range(s.pipelineCpu, f1),
        s.gatewayCpu === undefined ? '-' : range(s.gatewayCpu, f1),
      ],
    ];
  });
}

const TOOL_HEADER = ['tool', 'runs', 'wall s', 'MB/s', 'peak RSS MiB', 'CPU s', 'pipeline CPU s', 'gateway CPU s'];

function ratioRows(evaluation: Evaluation, ours: ToolId, peers: readonly ToolId[]): string[][] {
  const o = evaluation.stats[ours];
  const metrics: { name: string; value: (s: ToolStats) => number }[] = [
    { name: 'wall time', value: (s) => s.wall.median },
    { name: 'throughput', value: (s) => s.throughput.median },
    { name: 'peak RSS', value: (s) => s.rssMiB.median },
    { name: 'CPU s (measured process)', value: (s) => s.cpu.median },
    { name: 'CPU s (whole pipeline)', value: (s) => s.pipelineCpu.median },
  ];
  return metrics.map((metric) => [
    metric.name,
    ...peers.map((peer) => {
      const p = evaluation.stats[peer];
      return ratioCell(o === undefined ? undefined : metric.value(o), p === undefined ? undefined : metric.value(p));
    }),
  ]);
}

/** What bounds the run, from the CPU seconds each side used against the machine's cores. */
function cpuShare(results: Results, s: ToolStats | undefined): string {
  if (s === undefined) return '-';
  const total = s.pipelineCpu.median + (s.gatewayCpu?.median ?? 0);
  return pct(total / (results.machine.cores * s.wall.median));
}

export function renderMarkdown(results: Results, evaluation = evaluate(results)): string {
  const { machine, settings, dataset } = results;
  const st = evaluation.stats;
  const failed = evaluation.targets.filter((target) => !target.pass);
  const out: string[] = [];
  out.push('# Benchmark: btrfs-to-s3 against the pipelines users would otherwise build');
  out.push('');
  out.push(
    `Generated by \`pnpm bench\` (\`bench/\`) on ${results.finishedAt.slice(0, 10)}; do not edit by hand. Every run rewrites this page;`,
  );
  out.push('`pnpm bench -- --report-only` renders it again from `bench/results/latest.json`. Issue 8 defines the targets.');
  out.push(
    `One run: ${dataset.bytes > 0 ? bytes(dataset.bytes) : '-'} dataset, ${settings.rounds} interleaved round(s), ${Math.round(results.durationSeconds / 60)} min in all. All figures are medians`,
  );
  out.push('over the rounds, with (min-max); ratios are ours / peer of the medians. Only ratios from one run mean anything: the');
  out.push('machine is shared, so absolute times move between runs.');
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push(
    table(
      ['target', 'measured', 'limit', 'result', 'detail'],
      evaluation.targets.map((t) => [t.title, t.measured, t.limit, t.pass ? 'PASS' : '**FAIL**', t.detail]),
    ),
  );
  out.push('');
  out.push(
    failed.length === 0
      ? 'Every target passes.'
      : `${failed.length} of ${evaluation.targets.length} targets fail on this machine: ${failed.map((t) => t.id).join(', ')}. See "Where the time goes"${results.profiles === undefined ? '' : ' and "CPU profiles of our runs"'} for what bounds them, and [performance.md](performance.md) for the investigations behind them (written by hand).`,
  );
  out.push('');
  out.push(`![Throughput per tool: MB/s of the btrfs send stream, median with min-max whiskers](${CHART_FILE})`);
  out.push('');
  out.push('## Backup: ours against the upload peers');
  out.push('');
  out.push(table(TOOL_HEADER, toolRows(evaluation, ['send', 'ours-backup', 'aws-upload', 'rclone-upload'])));
  out.push('');
  out.push(
    table(['ours / peer (medians)', 'vs awscli', 'vs rclone'], ratioRows(evaluation, 'ours-backup', ['aws-upload', 'rclone-upload'])),
  );
  out.push('');
  out.push('## Restore: ours against `aws s3 cp - | btrfs receive`');
  out.push('');
  out.push(table(TOOL_HEADER, toolRows(evaluation, ['ours-restore', 'ours-restore-sample', 'aws-restore'])));
  out.push('');
  out.push(table(['ours (`--verify none`) / peer (medians)', 'vs awscli'], ratioRows(evaluation, 'ours-restore', ['aws-restore'])));
  out.push('');
  out.push("The comparison uses `--verify none`, since the peer verifies nothing afterwards. Ours still checks every part's SHA-256");
  out.push(
    'against the manifest before a byte reaches `btrfs receive` and the Received UUID after it; the peer pipeline has nothing to check',
  );
  out.push(
    'against. `--verify sample` (one run, in the first round) adds a tree comparison of a sample of files against the source snapshot.',
  );
  out.push('');
  out.push('## Encryption and compression');
  out.push('');
  out.push(table(TOOL_HEADER, toolRows(evaluation, ['ours-backup', 'sealed-backup', 'ours-restore', 'sealed-restore'])));
  out.push('');
  out.push(
    'The same dataset (incompressible: the worst case for compression, which then only costs) backed up and restored plain and with',
  );
  out.push(
    '`compression = "zstd"` and one age recipient. The budget compares CPU seconds per GiB of send stream (see Targets).' +
      (results.compression === undefined
        ? ''
        : ` Text-heavy data (${bytes(results.compression.textBytes)} of service logs) stored ${pct(results.compression.storedBytes / results.compression.streamBytes)} of its send stream.`),
  );
  out.push('');
  out.push('## Incremental after a 5% change');
  out.push('');
  const incRuns = runsOf(results, 'inc');
  const incFullRuns = runsOf(results, 'inc-full');
  out.push(
    table(
      [
        'rep',
        'changed',
        'full wall s',
        'full stream',
        'incremental wall s',
        'incremental stream',
        'incremental parts',
        'time inc/full',
        'bytes inc/full',
      ],
      incRuns.map((run) => {
        const full = incFullRuns.find((candidate) => candidate.round === run.round);
        return [
          String(run.round),
          run.changedBytes === undefined ? '-' : bytes(run.changedBytes),
          full === undefined ? '-' : f2(full.wallSeconds),
          full === undefined ? '-' : bytes(full.streamBytes),
          f2(run.wallSeconds),
          bytes(run.streamBytes),
          String(partsOf(run.streamBytes, settings)),
          ratioCell(run.wallSeconds, full?.wallSeconds),
          ratioCell(run.streamBytes, full?.streamBytes),
        ];
      }),
    ),
  );
  out.push('');
  if (st.inc !== undefined && st['inc-full'] !== undefined) {
    out.push(
      `Medians: the incremental took ${f2(st.inc.wall.median)} s and sent ${bytes(st.inc.streamBytes.median)} against the full's ${f2(st['inc-full'].wall.median)} s and ${bytes(st['inc-full'].streamBytes.median)}: ${pct(st.inc.wall.median / st['inc-full'].wall.median)} of the time for ${pct(st.inc.streamBytes.median / st['inc-full'].streamBytes.median)} of the bytes.`,
    );
    const parts = partsOf(st.inc.streamBytes.median, settings);
    if (parts < settings.concurrency) {
      out.push(
        `The incremental's stream makes ${parts} part(s) of at most ${bytes(settings.partSizeBytes)}, fewer than \`s3.concurrency\` (${settings.concurrency}): it uploads over ${parts} connection(s) at a time where the full keeps ${settings.concurrency} busy. Cutting it into smaller parts over more connections bought nothing here (see performance.md); the fixed cost of a run (see the scaling fit) is what weighs on it.`,
      );
    }
    out.push('');
  }
  out.push('## Scaling: one full backup at three dataset sizes');
  out.push('');
  const bound = rssBoundBytes(settings) / MiB;
  out.push(
    table(
      ['size', 'subvolume data', 'send stream', 'wall s', 's per GiB of stream', 'peak RSS MiB', `bound ${f0(bound)} MiB`],
      dataset.scaling.flatMap((point) => {
        const s = st[point.tool];
        if (s === undefined) return [];
        return [
          [
            point.label,
            bytes(point.bytes),
            bytes(s.streamBytes.median),
            range(s.wall, f2),
            f2(s.wall.median / (s.streamBytes.median / GiB)),
            range(s.rssMiB, f0),
            s.rssMiB.median <= bound ? 'PASS' : '**FAIL**',
          ],
        ];
      }),
    ),
  );
  out.push('');
  if (evaluation.scalingFit !== undefined) {
    const fit = evaluation.scalingFit;
    out.push(
      `Least-squares line through the medians: wall = ${f2(fit.intercept)} s + ${f2(fit.slope)} s per GiB of stream (R^2 = ${fit.r2.toFixed(3)}). The intercept is the fixed cost of a run`,
    );
    out.push('(Node and oclif start-up, snapshot, lock, manifests); time grows linearly when R^2 is close to 1.');
    out.push('');
  }
  const rssPoints = dataset.scaling.flatMap((point) => {
    const s = st[point.tool];
    return s === undefined ? [] : [{ label: point.label, rss: s.rssMiB.median, stream: s.streamBytes.median }];
  });
  const lastTwo = rssPoints.slice(-2);
  if (lastTwo.length === 2 && lastTwo[0] !== undefined && lastTwo[1] !== undefined) {
    const change = lastTwo[1].rss / lastTwo[0].rss - 1;
    const pool = settings.concurrency * settings.partSizeBytes;
    out.push(
      `Peak RSS medians: ${rssPoints.map((p) => `${f0(p.rss)} MiB at ${p.label}`).join(', ')}; from ${lastTwo[0].label} to ${lastTwo[1].label} (twice the data) it changes by ${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%.`,
    );
    const smallest = rssPoints[0];
    if (smallest !== undefined && smallest.stream < 2 * pool) {
      out.push(
        `At ${smallest.label} the stream (${bytes(smallest.stream)}) is less than twice the part pool (${settings.concurrency} x ${bytes(settings.partSizeBytes)}), so the pool is never all in use at once for long.`,
      );
    }
    out.push('');
  }
  out.push(...startupSection(results.startup));
  out.push('## Where the time goes');
  out.push('');
  out.push(
    table(
      ['run', 'wall s', 'tool CPU s', 'tool cores', 'other side CPU s', 'gateway CPU s', 'this run / machine', 'machine busy'],
      (
        ['send', 'ours-backup', 'aws-upload', 'rclone-upload', 'ours-restore', 'ours-restore-sample', 'aws-restore', 'inc'] as const
      ).flatMap((tool) => {
        const s = st[tool];
        if (s === undefined) return [];
        const own = tool !== 'aws-upload' && tool !== 'rclone-upload' && tool !== 'aws-restore';
        return [
          [
            LABELS[tool],
            f2(s.wall.median),
            f1(s.cpu.median),
            f2(s.cpu.median / s.wall.median),
            own ? '-' : f1(s.pipelineCpu.median - s.cpu.median),
            s.gatewayCpu === undefined ? '-' : f1(s.gatewayCpu.median),
            cpuShare(results, s),
            s.machineBusy === undefined ? '-' : pct(s.machineBusy.median),
          ],
        ];
      }),
    ),
  );
  out.push('');
  out.push(
    `"tool cores" is the tool's CPU seconds per wall second. "this run / machine" adds the tool, the other side of a pipeline and the`,
  );
  out.push(
    `gateway (radosgw, OSD and monitor, from /proc) and divides by the ${machine.cores} cores x wall time; "machine busy" is every process on the`,
  );
  out.push(
    "machine (/proc/stat), other people's work included. A run whose machine was near 100% busy was bound by CPU shared between the",
  );
  out.push('client and the gateway (the gateway keeps the data in memory, the loop Btrfs sits in the page cache: no disk or network limit');
  out.push('here). Ours counts the `btrfs send` or `receive` it runs in its own CPU (`/usr/bin/time` includes waited-for children); for');
  out.push('peers "other side" is the separate `btrfs` process.');
  const ours = st['ours-backup'];
  if (ours !== undefined) {
    const send = st.send;
    let line = `Our full backup used ${f1(ours.cpu.median)} CPU s in ${f2(ours.wall.median)} s (${f2(ours.cpu.median / ours.wall.median)} cores)`;
    if (ours.gatewayCpu !== undefined)
      line += ` and the gateway ${f1(ours.gatewayCpu.median)} CPU s (${f2(ours.gatewayCpu.median / ours.wall.median)} cores)`;
    if (ours.machineBusy !== undefined) line += `, with the machine ${pct(ours.machineBusy.median)} busy`;
    if (send !== undefined)
      line += `; \`btrfs send\` alone streams the snapshot in ${f2(send.wall.median)} s (${f0(send.throughput.median)} MB/s)`;
    out.push('');
    out.push(`${line}.`);
  }
  out.push('');
  out.push(...profileSection(results));
  out.push('## Machine');
  out.push('');
  out.push(
    table(
      ['', ''],
      [
        ['date', results.startedAt],
        ['CPU', `${machine.cpuModel}, ${machine.cores} cores`],
        ['RAM', bytes(machine.memoryBytes)],
        ['OS, kernel', `${machine.os}, ${machine.kernel}`],
        ['Node', machine.node],
        ['btrfs-progs', machine.btrfsProgs],
        ['awscli', machine.awscli],
        ['rclone', machine.rclone],
        ['gateway', `${machine.ceph}, memstore OSD, radosgw on loopback`],
        ['load average (1 min) at start / end', `${machine.loadAverage.start.toFixed(2)} / ${machine.loadAverage.end.toFixed(2)}`],
      ],
    ),
  );
  out.push('');
  out.push('## Dataset and settings');
  out.push('');
  out.push(
    table(
      ['', ''],
      [
        [
          'dataset',
          `${bytes(dataset.bytes)} of random (incompressible) data on a loop Btrfs: ${dataset.largeFiles} large files (${bytes(dataset.largeBytes)}, 64-256 MiB each) and ${dataset.smallFiles} small files (${bytes(dataset.smallBytes)}, 1-64 KiB each), generated in ${f1(dataset.generateSeconds)} s`,
        ],
        ['send stream', `${bytes(dataset.streamBytes)} (\`btrfs send\` of the read-only benchmark snapshot)`],
        [
          'scaling subvolumes',
          dataset.scaling.map((point) => `${point.label} \`${point.subvolume}\` ${bytes(point.bytes)}`).join(', ') +
            ' (reflink copies of part of the dataset)',
        ],
        [
          'ours',
          `part ${bytes(settings.partSizeBytes)}, concurrency ${settings.concurrency}, chunk ${bytes(settings.chunkSizeBytes)} (default), \`checksum_mode = "when_required"\`, \`storage_class_chunks = "STANDARD"\`, path-style, SSE-S3`,
        ],
        [
          'awscli',
          `\`s3.multipart_chunksize = ${Math.round(settings.partSizeBytes / MiB)}MB\`, \`s3.max_concurrent_requests = ${settings.concurrency}\`, \`--expected-size\`, \`--sse AES256\``,
        ],
        [
          'rclone',
          `\`--s3-chunk-size ${Math.round(settings.partSizeBytes / MiB)}M --s3-upload-concurrency ${settings.concurrency} --s3-server-side-encryption AES256\`, provider Ceph, path-style`,
        ],
        ['rounds', `${settings.rounds}, each running every tool once, in an order rotated per round`],
        ['gateway memstore', bytes(settings.memstoreBytes)],
      ],
    ),
  );
  out.push('');
  out.push('## Method');
  out.push('');
  out.push('- One loop Btrfs and one local gateway (`tools/testenv/bin/rgw.sh`) serve every tool. The peers send the same read-only');
  out.push('  snapshot; ours takes its own snapshot of the unchanged subvolume (same content) as it does in production.');
  out.push('- Every process runs under `/usr/bin/time -v` (peak RSS, user + system CPU); the harness times each whole run, pipelines');
  out.push(
    "  included. Peak RSS is the measured process's (ours, or the peer's uploader/downloader). MB/s is 10^6 bytes of the send stream per second.",
  );
  out.push("- After each run its objects are deleted and the gateway's garbage collection is forced, so memory does not fill; restored");
  out.push('  subvolumes are deleted. Nothing of that is timed.');
  out.push('- The incremental check repeats: full backup, change ~5% of the data in place (ranges of a few large files, an append,');
  out.push('  rewritten small files), `backup --once` (an incremental against that full).');
  out.push(
    '- Scaling: full backups of 0.25x and 0.5x subvolumes (reflinks of part of the dataset) run inside the same rounds; 1x is the main backup.',
  );
  out.push('');
  return out.join('\n');
}

const STARTUP_KINDS: Record<StartupResult['kind'], string> = {
  release: "the release's launcher, as `scripts/release.sh` last built it",
  checkout: "the checkout's `apps/cli/bin/run.js` (no release built)",
  given: 'the executable named with `--executable`',
};

export interface StartupStats {
  readonly firstRequest: Summary;
  readonly wall: Summary;
  readonly bareNode: Summary;
  /** Median time to the first request / median bare Node start. */
  readonly ratio: number;
}

export function startupStats(startup: StartupResult): StartupStats | undefined {
  if (startup.runs.length === 0) return undefined;
  const firstRequest = summarize(startup.runs.map((run) => run.firstRequestSeconds));
  const bareNode = summarize(startup.runs.map((run) => run.bareNodeSeconds));
  return {
    firstRequest,
    wall: summarize(startup.runs.map((run) => run.wallSeconds)),
    bareNode,
    ratio: firstRequest.median / bareNode.median,
  };
}

const ms = (seconds: number) => (seconds * 1000).toFixed(0);

/** The fixed cost of a run, for the terminal. */
export function startupLines(startup: StartupResult): string[] {
  const s = startupStats(startup);
  if (s === undefined) return [];
  return [
    `fixed cost of a run (${startup.executable} ${startup.command}, n=${s.firstRequest.n}): exec to first S3 request ${ms(s.firstRequest.median)} ms (${ms(s.firstRequest.min)}-${ms(s.firstRequest.max)}), ` +
      `${f1(s.ratio)} x a bare node -e 0 (${ms(s.bareNode.median)} ms); exec to exit ${ms(s.wall.median)} ms`,
  ];
}

function startupSection(startup: StartupResult | undefined): string[] {
  const s = startup === undefined ? undefined : startupStats(startup);
  if (startup === undefined || s === undefined) return [];
  const out: string[] = ['## Fixed cost of a run', ''];
  out.push(
    `\`btrfs-to-s3 ${startup.command}\` on an empty prefix, ${s.firstRequest.n} runs after an untimed one, each just after a bare \`node -e 0\` of the`,
  );
  out.push('Node it runs on. The time from exec until its first S3 request reaches the gateway (through a relay that notes it) is what');
  out.push('every run pays before any work: Node, oclif, the config, the AWS SDK ([release.md](release.md#start-up)).');
  out.push(`Timed: ${STARTUP_KINDS[startup.kind]}, \`${startup.executable}\`.`);
  out.push('');
  out.push(
    table(
      ['', 'ms, median (min-max)'],
      [
        ['exec to the first S3 request', range(s.firstRequest, ms)],
        ['exec to exit', range(s.wall, ms)],
        ['bare `node -e 0`', range(s.bareNode, ms)],
      ],
    ),
  );
  out.push('');
  out.push(`The first request goes out ${f1(s.ratio)} x a bare Node start after exec (medians).`);
  out.push('');
  return out;
}

const PROFILE_TITLES: Record<ProfiledRun['tool'], string> = {
  'ours-backup': 'full backup',
  'ours-restore': 'restore (`--verify none`)',
  inc: 'incremental',
};

/** Where our own process spends its time, from the extra runs under `node --cpu-prof`. */
function profileSection(results: Results): string[] {
  const profiles = results.profiles ?? [];
  if (profiles.length === 0) return [];
  const out: string[] = ['## CPU profiles of our runs', ''];
  out.push(`One extra run of each under \`node --cpu-prof\` (with the executable's own Node flags), not part of any comparison: profiling`);
  out.push('slows it down. Self time of our process by category; "idle" is its main thread waiting on I/O (the gateway, the pipe from');
  out.push('`btrfs send`, `btrfs receive` taking the data). V8 samples wall-clock time: on a busy machine, time spent waiting for a core');
  out.push(
    'counts against the function that was running. The raw profiles are in `bench/results/logs/profiles/` (Chrome DevTools opens them).',
  );
  out.push('');
  const categories = [...new Set(profiles.flatMap((p) => p.summary.categories.map((c) => c.name)))];
  const cell = (run: ProfiledRun, name: string) => {
    const found = run.summary.categories.find((c) => c.name === name);
    return found === undefined ? '-' : `${pct(found.share)} (${f1(found.ms / 1000)} s)`;
  };
  const order = (name: string) => Math.max(...profiles.map((run) => run.summary.categories.find((c) => c.name === name)?.share ?? 0));
  out.push(
    table(
      ['self time', ...profiles.map((run) => `${PROFILE_TITLES[run.tool]}: ${f2(run.wallSeconds)} s, ${bytes(run.streamBytes)}`)],
      categories.sort((a, b) => order(b) - order(a)).map((name) => [name, ...profiles.map((run) => cell(run, name))]),
    ),
  );
  out.push('');
  for (const run of profiles) {
    out.push(
      `Functions with the most self time, ${PROFILE_TITLES[run.tool]}${run.summary.threads > 1 ? ` (${run.summary.threads} threads)` : ''}:`,
    );
    out.push('');
    out.push(
      table(
        ['function', 'self s', 'share'],
        run.summary.top.slice(0, 8).map((entry) => [`\`${entry.name}\``, f2(entry.ms / 1000), pct(entry.share)]),
      ),
    );
    out.push('');
  }
  return out;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round axis maximum: 1, 2 or 5 times a power of ten, at least value. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

const COLORS = { source: '#9e9e9e', ours: '#1f6fb2', peer: '#e08a2c' } as const;

export function renderSvg(results: Results, evaluation = evaluate(results)): string {
  const bars = (Object.keys(CHART) as ToolId[]).flatMap((tool) => {
    const s = evaluation.stats[tool];
    const chart = CHART[tool];
    return s === undefined || chart === undefined ? [] : [{ tool, ...chart, summary: s.throughput }];
  });
  const slot = 104;
  const left = 64;
  const top = 64;
  const plotHeight = 260;
  const width = left + slot * Math.max(bars.length, 1) + 24;
  const height = top + plotHeight + 84;
  // The scale fits the uploaders and restores; the source limit, usually far faster, may run off it.
  const compared = bars.filter((bar) => bar.kind !== 'source');
  const max = niceMax(1.1 * Math.max(1, ...(compared.length > 0 ? compared : bars).map((bar) => bar.summary.max)));
  const clamp = (value: number) => Math.min(value, max);
  const y = (value: number) => top + plotHeight - (clamp(value) / max) * plotHeight;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">Throughput of the btrfs send stream (MB/s, median, min-max)</text>`,
  );
  out.push(
    `<text x="${width / 2}" y="38" text-anchor="middle" fill="#555">${escapeXml(`${bytes(results.dataset.streamBytes)} stream, ${results.settings.rounds} round(s), ${results.machine.cores} cores, ${results.finishedAt.slice(0, 10)}`)}</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const value = (max / 5) * i;
    out.push(`<line x1="${left}" x2="${width - 16}" y1="${y(value)}" y2="${y(value)}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${left - 6}" y="${y(value) + 4}" text-anchor="end" fill="#555">${f0(value)}</text>`);
  }
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="#555"/>`);
  // Backup bars first, then restores: a dashed line and a caption for each group.
  const firstRestore = bars.findIndex((bar) => RESTORES.has(bar.tool));
  const groups =
    firstRestore < 0
      ? [{ from: 0, to: bars.length, name: 'backup' }]
      : [
          { from: 0, to: firstRestore, name: 'backup' },
          { from: firstRestore, to: bars.length, name: 'restore' },
        ];
  for (const group of groups) {
    if (group.to <= group.from) continue;
    const x = left + group.from * slot;
    if (group.from > 0)
      out.push(`<line x1="${x}" x2="${x}" y1="${top - 14}" y2="${top + plotHeight}" stroke="#999" stroke-dasharray="4 3"/>`);
    out.push(
      `<text class="group" x="${x + ((group.to - group.from) * slot) / 2}" y="${top - 6}" text-anchor="middle" fill="#333" font-style="italic">${group.name}</text>`,
    );
  }
  bars.forEach((bar, index) => {
    const x = left + index * slot + 18;
    const barWidth = slot - 36;
    const middle = x + barWidth / 2;
    const { median: m, min, max: hi } = bar.summary;
    const offScale = m > max;
    out.push(
      `<rect class="bar" data-tool="${bar.tool}" x="${x}" y="${f1(y(m))}" width="${barWidth}" height="${f1(top + plotHeight - y(m))}" fill="${COLORS[bar.kind]}"/>`,
    );
    if (offScale) {
      // A break in the bar says it goes on beyond the scale.
      const breakY = top + 18;
      out.push(
        `<path class="break" d="M${x - 2} ${breakY + 4} L${x + barWidth + 2} ${breakY - 4} L${x + barWidth + 2} ${breakY + 2} L${x - 2} ${breakY + 10} Z" fill="#ffffff"/>`,
      );
      out.push(`<text class="value" x="${middle}" y="${top - 22}" text-anchor="middle" font-weight="bold">${f0(m)} (off scale)</text>`);
    } else {
      out.push(
        `<g class="whisker" stroke="#222"><line x1="${middle}" x2="${middle}" y1="${f1(y(hi))}" y2="${f1(y(min))}"/><line x1="${middle - 8}" x2="${middle + 8}" y1="${f1(y(hi))}" y2="${f1(y(hi))}"/><line x1="${middle - 8}" x2="${middle + 8}" y1="${f1(y(min))}" y2="${f1(y(min))}"/></g>`,
      );
      out.push(`<text class="value" x="${middle}" y="${f1(y(hi) - 6)}" text-anchor="middle" font-weight="bold">${f0(m)}</text>`);
    }
    bar.lines.forEach((line, lineIndex) => {
      out.push(
        `<text class="label" x="${middle}" y="${top + plotHeight + 18 + lineIndex * 15}" text-anchor="middle">${escapeXml(line)}</text>`,
      );
    });
  });
  const legendY = height - 18;
  const legend: [keyof typeof COLORS, string][] = [
    ['source', 'source limit'],
    ['ours', 'btrfs-to-s3'],
    ['peer', 'awscli / rclone'],
  ];
  legend.forEach(([kind, text], index) => {
    const x = left + index * 150;
    out.push(
      `<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[kind]}"/><text x="${x + 18}" y="${legendY}">${escapeXml(text)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** One line per target, for the terminal. */
export function targetLine(target: Target): string {
  return `${target.pass ? 'PASS' : 'FAIL'}: ${target.title}: measured ${target.measured}, limit ${target.limit} (${target.detail})`;
}

/** The medians worth printing at the end of a run. */
export function summaryLines(evaluation: Evaluation, startup?: StartupResult): string[] {
  const lines: string[] = [];
  for (const s of Object.values(evaluation.stats)) {
    if (s === undefined) continue;
    lines.push(
      `${LABELS[s.tool].replace(/`/g, '')}: wall ${f2(s.wall.median)} s, ${f0(s.throughput.median)} MB/s, peak RSS ${f0(s.rssMiB.median)} MiB, CPU ${f1(s.cpu.median)} s (n=${s.n})`,
    );
  }
  return startup === undefined ? lines : [...lines, ...startupLines(startup)];
}
