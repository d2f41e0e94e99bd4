// Medians per tool and dataset, the rate-limited and rate cap figures, and the targets
// (issues 19, 8 and 17) with PASS/FAIL, from the raw results alone.
import { againstLimit, bytes, f0, f2, GiB, MiB, pct, pct1 } from './report-format';
import { formatRate, peakRate, steadyOrWhole } from './rate';
import { type CapRecord, type LinkRecord, type Results, type RunRecord, rssBoundBytes, type ToolId } from './results';
import { linearFit, type LinearFit, type Summary, summarize } from './stats';
import { cpuSeconds } from './time-v';

export const LABELS: Record<ToolId, string> = {
  send: '`btrfs send > /dev/null`',
  'ours-backup': 'btrfs-to-s3 `backup --full`',
  'ours-backup-tuned': 'btrfs-to-s3 `backup --full`, tuned',
  'aws-upload': '`btrfs send | aws s3 cp -`',
  'aws-upload-matched': '`btrfs send | aws s3 cp -`, matched',
  'rclone-upload': '`btrfs send | rclone rcat`',
  'rclone-upload-matched': '`btrfs send | rclone rcat`, matched',
  'restic-upload': '`btrfs send | restic backup --stdin`',
  'ours-restore': 'btrfs-to-s3 `restore --verify none`',
  'ours-restore-verify': 'btrfs-to-s3 `restore` (default verification)',
  'aws-restore': '`aws s3 cp - | btrfs receive`',
  'scale-0.25': 'btrfs-to-s3 `backup --full`, 0.25x',
  'inc-full': 'btrfs-to-s3 `backup --full` (incremental check)',
  inc: 'btrfs-to-s3 `backup --once` (incremental)',
  'inc-empty': 'btrfs-to-s3 `backup --once`, one new file',
  'aws-inc-empty': '`btrfs send -p | aws s3 cp -`, one new file',
  'sealed-backup': 'btrfs-to-s3 `backup --full`, zstd + age',
  'sealed-restore': 'btrfs-to-s3 `restore --verify none`, zstd + age',
};

/** Tools whose streams are too short for CPU per GiB to mean anything. */
export const SMALL_STREAMS: ReadonlySet<ToolId> = new Set(['inc', 'inc-empty', 'aws-inc-empty']);

/** Tools run as a pipeline of two processes (the peer and `btrfs send` or `receive`). */
export const PIPELINES: ReadonlySet<ToolId> = new Set([
  'aws-upload',
  'aws-upload-matched',
  'rclone-upload',
  'rclone-upload-matched',
  'restic-upload',
  'aws-restore',
  'aws-inc-empty',
]);

export interface ToolStats {
  readonly tool: ToolId;
  readonly dataset: string;
  readonly n: number;
  readonly wall: Summary;
  /** MB/s (10^6 bytes) of the send stream. */
  readonly throughput: Summary;
  readonly rssMiB: Summary;
  /** The measured process's CPU seconds (ours includes the btrfs child it waits for). */
  readonly cpu: Summary;
  /** Both sides of a pipeline; for ours the same as cpu. */
  readonly pipelineCpu: Summary;
  /** pipelineCpu per GiB of send stream. */
  readonly cpuPerGiB: Summary;
  readonly streamBytes: Summary;
  readonly gatewayCpu?: Summary;
  /** Share of the machine (all cores) busy during the run, this benchmark and everything else. */
  readonly machineBusy?: Summary;
}

export interface LinkStats {
  readonly tool: ToolId;
  readonly rateBitsPerSecond: number;
  readonly n: number;
  readonly wall: Summary;
  /** Send stream bits per second of wall time, over the link's rate. */
  readonly share: Summary;
  /** Bits the link carried (headers included) per second of wall time, over its rate. */
  readonly busy: Summary;
  readonly rssMiB: Summary;
  readonly cpuPerGiB: Summary;
}

export interface CapStats {
  readonly tool: CapRecord['tool'];
  readonly n: number;
  readonly option: string;
  readonly capBytesPerSecond: number;
  /** Bytes per second between 5% and 95% of the bytes (rate.ts). */
  readonly steady: Summary;
  /** steady / cap - 1. */
  readonly offBy: Summary;
  /** Seconds between 5% and 95% of the bytes. */
  readonly windowSeconds: Summary;
  /** The fastest 10 s inside that span, bytes per second. */
  readonly peak10?: Summary;
  readonly wall: Summary;
  readonly cpuPerGiB: Summary;
}

export interface Target {
  /** `backup@768M`, `link@100000000`, `rss`, ... */
  readonly id: string;
  readonly title: string;
  readonly measured: string;
  readonly limit: string;
  readonly pass: boolean;
  readonly detail: string;
}

export interface Evaluation {
  /** Per dataset id, per tool. */
  readonly stats: Readonly<Record<string, Partial<Record<ToolId, ToolStats>>>>;
  readonly link: readonly LinkStats[];
  readonly cap: readonly CapStats[];
  readonly targets: readonly Target[];
  readonly scalingFit?: LinearFit;
}

const perGiB = (run: Pick<RunRecord, 'main' | 'source' | 'streamBytes'>) =>
  (cpuSeconds(run.main) + (run.source === undefined ? 0 : cpuSeconds(run.source))) / (run.streamBytes / GiB);

export function toolStats(runs: readonly RunRecord[]): ToolStats | undefined {
  const first = runs[0];
  if (first === undefined) return undefined;
  const gateway = runs.map((run) => run.gatewayCpuSeconds).filter((value): value is number => value !== undefined);
  const busy = runs.map((run) => run.machineBusy).filter((value): value is number => value !== undefined);
  return {
    tool: first.tool,
    dataset: first.dataset,
    n: runs.length,
    wall: summarize(runs.map((run) => run.wallSeconds)),
    throughput: summarize(runs.map((run) => run.streamBytes / run.wallSeconds / 1e6)),
    rssMiB: summarize(runs.map((run) => run.main.maxRssKiB / 1024)),
    cpu: summarize(runs.map((run) => cpuSeconds(run.main))),
    pipelineCpu: summarize(runs.map((run) => cpuSeconds(run.main) + (run.source === undefined ? 0 : cpuSeconds(run.source)))),
    cpuPerGiB: summarize(runs.map(perGiB)),
    streamBytes: summarize(runs.map((run) => run.streamBytes)),
    ...(gateway.length === runs.length ? { gatewayCpu: summarize(gateway) } : {}),
    ...(busy.length === runs.length ? { machineBusy: summarize(busy) } : {}),
  };
}

export function linkStats(runs: readonly LinkRecord[]): LinkStats[] {
  const keys = [...new Set(runs.map((run) => `${run.rateBitsPerSecond} ${run.tool}`))];
  return keys.map((key) => {
    const group = runs.filter((run) => `${run.rateBitsPerSecond} ${run.tool}` === key);
    const first = group[0] as LinkRecord;
    const rate = first.rateBitsPerSecond;
    return {
      tool: first.tool,
      rateBitsPerSecond: rate,
      n: group.length,
      wall: summarize(group.map((run) => run.wallSeconds)),
      share: summarize(group.map((run) => (run.streamBytes * 8) / run.wallSeconds / rate)),
      busy: summarize(group.map((run) => (run.linkBytes * 8) / run.wallSeconds / rate)),
      rssMiB: summarize(group.map((run) => run.main.maxRssKiB / 1024)),
      cpuPerGiB: summarize(group.map(perGiB)),
    };
  });
}

export function capStats(runs: readonly CapRecord[]): CapStats[] {
  const tools = [...new Set(runs.map((run) => run.tool))];
  return tools.map((tool) => {
    const group = runs.filter((run) => run.tool === tool);
    const first = group[0] as CapRecord;
    const steady = group.map((run) => steadyOrWhole(run.samples));
    const peaks = group
      .map((run, index) => {
        const s = steady[index];
        return s === undefined ? undefined : peakRate(run.samples, 10_000, s.fromMs, s.toMs);
      })
      .filter((value): value is number => value !== undefined);
    return {
      tool,
      n: group.length,
      option: first.option,
      capBytesPerSecond: first.capBytesPerSecond,
      steady: summarize(steady.map((s) => s.bytesPerSecond)),
      offBy: summarize(steady.map((s, index) => s.bytesPerSecond / (group[index] as CapRecord).capBytesPerSecond - 1)),
      windowSeconds: summarize(steady.map((s) => (s.toMs - s.fromMs) / 1000)),
      ...(peaks.length === group.length ? { peak10: summarize(peaks) } : {}),
      wall: summarize(group.map((run) => run.wallSeconds)),
      cpuPerGiB: summarize(group.map(perGiB)),
    };
  });
}

function missing(id: string, title: string, what: string): Target {
  return { id, title, measured: 'no data', limit: '-', pass: false, detail: `no ${what} runs in the results` };
}

/** measured <= factor x reference, on medians. */
function atMost(id: string, title: string, ours: number, reference: number, factor: number, unit: string, referenceName: string): Target {
  const limit = factor * reference;
  return {
    id,
    title,
    measured: `${f2(ours)} ${unit}`,
    limit: `${f2(limit)} ${unit} (${f2(factor)} x ${f2(reference)} ${unit}${referenceName === '' ? '' : `, ${referenceName}`})`,
    pass: ours <= limit,
    detail: `ours/peer ${f2(ours / reference)}, target <= ${f2(factor)} (${againstLimit(ours, limit)})`,
  };
}

function datasetTargets(id: string, s: Partial<Record<ToolId, ToolStats>>): Target[] {
  const targets: Target[] = [];
  const ours = s['ours-backup'];
  const peers = [s['aws-upload'], s['rclone-upload']].filter((p): p is ToolStats => p !== undefined);
  const backupTitle = `Full backup wall time <= 0.9 x the faster peer (their defaults), ${id}`;
  if (ours === undefined || peers.length === 0) targets.push(missing(`backup@${id}`, backupTitle, 'backup or peer'));
  else {
    const faster = peers.reduce((a, b) => (b.wall.median < a.wall.median ? b : a));
    targets.push(atMost(`backup@${id}`, backupTitle, ours.wall.median, faster.wall.median, 0.9, 's', LABELS[faster.tool]));
  }
  const peerRestore = s['aws-restore'];
  for (const [tool, factor, what] of [
    ['ours-restore', 0.9, '`--verify none`'],
    ['ours-restore-verify', 1.3, 'the default verification'],
  ] as const) {
    const restore = s[tool];
    const title = `Restore with ${what} wall time <= ${f2(factor)} x \`aws s3 cp - | btrfs receive\`, ${id}`;
    const targetId = `${tool === 'ours-restore' ? 'restore' : 'restore-verify'}@${id}`;
    if (restore === undefined || peerRestore === undefined) targets.push(missing(targetId, title, 'restore'));
    else targets.push(atMost(targetId, title, restore.wall.median, peerRestore.wall.median, factor, 's', ''));
  }
  const aws = s['aws-upload'];
  const cpuTitle = `Backup CPU s per GiB <= 0.8 x awscli's pipeline (both sides), ${id}`;
  if (ours === undefined || aws === undefined) targets.push(missing(`backup-cpu@${id}`, cpuTitle, 'backup or awscli'));
  else targets.push(atMost(`backup-cpu@${id}`, cpuTitle, ours.cpuPerGiB.median, aws.cpuPerGiB.median, 0.8, 's/GiB', ''));
  const restore = s['ours-restore'];
  const restoreCpuTitle = `Restore CPU s per GiB (\`--verify none\`, with \`btrfs receive\`) <= awscli's pipeline, ${id}`;
  if (restore === undefined || peerRestore === undefined) targets.push(missing(`restore-cpu@${id}`, restoreCpuTitle, 'restore'));
  else targets.push(atMost(`restore-cpu@${id}`, restoreCpuTitle, restore.cpuPerGiB.median, peerRestore.cpuPerGiB.median, 1, 's/GiB', ''));
  return targets;
}

function linkTargets(link: readonly LinkStats[]): Target[] {
  const rates = [...new Set(link.map((s) => s.rateBitsPerSecond))];
  return rates.map((rate) => {
    const at = link.filter((s) => s.rateBitsPerSecond === rate);
    const ours = at.find((s) => s.tool === 'ours-backup');
    const title = `Rate-limited link ${formatRate(rate / 8)}: a full moves >= 90% of the link rate, not below either peer`;
    const id = `link@${formatRate(rate / 8).replace(/[ /]|s$/g, '')}`;
    if (ours === undefined) return missing(id, title, 'rate-limited backup');
    const peers = at.filter((s) => s.tool !== 'ours-backup');
    const best = peers.reduce<LinkStats | undefined>((a, b) => (a === undefined || b.share.median > a.share.median ? b : a), undefined);
    const limit = Math.max(0.9, best?.share.median ?? 0);
    return {
      id,
      title,
      measured: pct1(ours.share.median),
      limit: `>= ${pct1(limit)}${best !== undefined && best.share.median > 0.9 ? ` (${LABELS[best.tool]})` : ' (90%)'}`,
      pass: ours.share.median >= limit,
      detail: peers.map((p) => `${LABELS[p.tool].replace(/`/g, '')} ${pct1(p.share.median)}`).join(', ') || 'no peers ran',
    };
  });
}

function capTarget(cap: readonly CapStats[]): Target {
  const ours = cap.find((s) => s.tool === 'ours-backup');
  const title = 'Upload rate cap honoured within 5% over at least a minute';
  if (ours === undefined) return missing('cap', title, 'rate-capped backup');
  const off = ours.offBy.median;
  const long = ours.windowSeconds.min >= 60;
  const anchors = cap.filter((s) => s.tool !== 'ours-backup');
  return {
    id: 'cap',
    title,
    measured: `${formatRate(ours.steady.median)} (${off >= 0 ? '+' : ''}${pct1(off)}) over ${f0(ours.windowSeconds.min)} s`,
    limit: `${formatRate(ours.capBytesPerSecond)} +-5%, >= 60 s`,
    pass: Math.abs(off) <= 0.05 && long,
    detail:
      (long ? '' : 'the steady span is under a minute (a larger smallest size in --sizes, or a lower --cap-rate); ') +
      (anchors.map((a) => `${LABELS[a.tool].replace(/`/g, '')} ${a.offBy.median >= 0 ? '+' : ''}${pct1(a.offBy.median)}`).join(', ') ||
        'no anchors ran'),
  };
}

/** The stats of a tool on whichever dataset it ran (the incremental and sealed checks run on one). */
export function anywhere(stats: Evaluation['stats'], tool: ToolId): ToolStats | undefined {
  for (const perTool of Object.values(stats)) if (perTool[tool] !== undefined) return perTool[tool];
  return undefined;
}

export function evaluate(results: Results): Evaluation {
  const stats: Record<string, Partial<Record<ToolId, ToolStats>>> = {};
  for (const dataset of results.datasets) {
    const perTool: Partial<Record<ToolId, ToolStats>> = {};
    for (const tool of Object.keys(LABELS) as ToolId[]) {
      const summary = toolStats(results.runs.filter((run) => run.tool === tool && run.dataset === dataset.id));
      if (summary !== undefined) perTool[tool] = summary;
    }
    stats[dataset.id] = perTool;
  }
  const link = linkStats(results.link?.runs ?? []);
  const cap = capStats(results.cap?.runs ?? []);
  const compared = results.runs.length > 0;
  const targets: Target[] = [];
  if (compared) for (const dataset of results.datasets) targets.push(...datasetTargets(dataset.id, stats[dataset.id] ?? {}));
  if (results.link !== undefined) targets.push(...linkTargets(link));
  if (results.cap !== undefined) targets.push(capTarget(cap));
  if (compared) targets.push(...otherTargets(results, stats));

  const points = results.scaling.flatMap((point) => {
    const s = stats[point.dataset]?.[point.tool];
    return s === undefined ? [] : [{ x: s.streamBytes.median / GiB, y: s.wall.median }];
  });
  const fit = linearFit(points);
  return { stats, link, cap, targets, ...(fit === undefined ? {} : { scalingFit: fit }) };
}

/** Peak RSS, the near-empty incremental (issue 19); the 5% incremental (issue 8); zstd + age (issue 17). */
function otherTargets(results: Results, stats: Evaluation['stats']): Target[] {
  const targets: Target[] = [];
  const { defaults, tuned } = results.settings;
  const rssTitle = `Peak RSS <= concurrency x part size + 100 MiB (${f0(rssBoundBytes(defaults) / MiB)} MiB with the defaults) at every size`;
  const points = results.datasets.flatMap((dataset) =>
    (['ours-backup', 'ours-backup-tuned', 'scale-0.25'] as const).flatMap((tool) => {
      const s = stats[dataset.id]?.[tool];
      const bound = rssBoundBytes(tool === 'ours-backup-tuned' ? tuned : defaults) / MiB;
      return s === undefined
        ? []
        : [
            {
              label: `${tool === 'scale-0.25' ? `0.25x ${dataset.id}` : dataset.id}${tool === 'ours-backup-tuned' ? ' tuned' : ''}`,
              rss: s.rssMiB.max,
              bound,
            },
          ];
    }),
  );
  if (points.length === 0) targets.push(missing('rss', rssTitle, 'backup'));
  else {
    const worst = points.reduce((a, b) => (b.rss / b.bound > a.rss / a.bound ? b : a));
    targets.push({
      id: 'rss',
      title: rssTitle,
      measured: `${f0(worst.rss)} MiB (largest, ${worst.label})`,
      limit: `${f0(worst.bound)} MiB`,
      pass: points.every((p) => p.rss <= p.bound),
      detail: points.map((p) => `${p.label}: ${f0(p.rss)} MiB`).join(', '),
    });
  }

  const empty = anywhere(stats, 'inc-empty');
  const peerEmpty = anywhere(stats, 'aws-inc-empty');
  const emptyTitle = 'Near-empty incremental wall time <= 1.0 x `btrfs send -p | aws s3 cp -`';
  if (empty === undefined || peerEmpty === undefined) targets.push(missing('inc-empty', emptyTitle, 'near-empty incremental'));
  else targets.push(atMost('inc-empty', emptyTitle, empty.wall.median, peerEmpty.wall.median, 1, 's', ''));

  const incFull = anywhere(stats, 'inc-full');
  const inc = anywhere(stats, 'inc');
  const incTitle = 'Incremental of a 5% change <= 10% of the full backup time';
  if (incFull === undefined || inc === undefined) targets.push(missing('incremental', incTitle, 'incremental'));
  else {
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

  // Issue 17: zstd + age costs at most 1.3x the plain run's CPU per GiB, on incompressible data (same dataset).
  for (const [id, sealed, plain, what] of [
    ['sealed-backup-cpu', 'sealed-backup', 'ours-backup', 'backup'],
    ['sealed-restore-cpu', 'sealed-restore', 'ours-restore', 'restore'],
  ] as const) {
    const title = `Encrypted, compressed ${what} CPU per GiB <= 1.3 x the plain ${what}'s (incompressible data)`;
    const a = anywhere(stats, sealed);
    const b = a === undefined ? undefined : stats[a.dataset]?.[plain];
    if (a === undefined || b === undefined) {
      targets.push(missing(id, title, `${sealed} or ${plain}`));
      continue;
    }
    const r = a.cpuPerGiB.median / b.cpuPerGiB.median;
    targets.push({
      id,
      title,
      measured: `${f2(a.cpuPerGiB.median)} s/GiB`,
      limit: `${f2(1.3 * b.cpuPerGiB.median)} s/GiB (1.3 x ${f2(b.cpuPerGiB.median)} s/GiB)`,
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
  return targets;
}
