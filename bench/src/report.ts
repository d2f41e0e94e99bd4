// The results page (docs/benchmark.md), rendered from the raw results alone, and the lines
// printed at the end of a run. The figures and targets come from evaluate.ts.
import { anywhere, type Evaluation, evaluate, LABELS, PIPELINES, SMALL_STREAMS, type Target, type ToolStats } from './evaluate';
import { CHART_FILE } from './chart';
import { capSection, linkSection } from './report-link';
import { bytes, f0, f1, f2, GiB, MiB, pct, range, ratioCell, table } from './report-format';
import { profileSection, startupLines, startupSection } from './report-sections';
import { type OurSettings, type Results, rssBoundBytes, type ToolId } from './results';

/** Multipart parts of a stream: its chunks (s3.chunk_size_bytes) each cut into parts (s3.part_size_bytes). */
export function partsOf(streamBytes: number, settings: Pick<OurSettings, 'partSizeBytes' | 'chunkSizeBytes'>): number {
  const fullChunks = Math.floor(streamBytes / settings.chunkSizeBytes);
  const rest = streamBytes - fullChunks * settings.chunkSizeBytes;
  return fullChunks * Math.ceil(settings.chunkSizeBytes / settings.partSizeBytes) + Math.ceil(rest / settings.partSizeBytes);
}

const TOOL_HEADER = ['tool', 'runs', 'wall s', 'MB/s', 'peak RSS MiB', 'CPU s', 'pipeline CPU s', 'CPU s/GiB', 'gateway CPU s'];

function toolRows(stats: Partial<Record<ToolId, ToolStats>>, tools: readonly ToolId[]): string[][] {
  return tools.flatMap((tool) => {
    const s = stats[tool];
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
        range(s.cpuPerGiB, f2),
        s.gatewayCpu === undefined ? '-' : range(s.gatewayCpu, f1),
      ],
    ];
  });
}

function ratioRows(stats: Partial<Record<ToolId, ToolStats>>, ours: ToolId, peers: readonly ToolId[]): string[][] {
  const o = stats[ours];
  const metrics: { name: string; value: (s: ToolStats) => number }[] = [
    { name: 'wall time', value: (s) => s.wall.median },
    { name: 'throughput', value: (s) => s.throughput.median },
    { name: 'peak RSS', value: (s) => s.rssMiB.median },
    { name: 'CPU s (measured process)', value: (s) => s.cpu.median },
    { name: 'CPU s per GiB (whole pipeline)', value: (s) => s.cpuPerGiB.median },
  ];
  return metrics.map((metric) => [
    metric.name,
    ...peers.map((peer) => {
      const p = stats[peer];
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

const BACKUPS: readonly ToolId[] = [
  'send',
  'ours-backup',
  'ours-backup-tuned',
  'aws-upload',
  'rclone-upload',
  'aws-upload-matched',
  'rclone-upload-matched',
];
const RESTORES: readonly ToolId[] = ['ours-restore', 'ours-restore-verify', 'aws-restore'];

function comparisonSections(results: Results, evaluation: Evaluation): string[] {
  const out: string[] = [];
  for (const dataset of results.datasets) {
    const stats = evaluation.stats[dataset.id] ?? {};
    if (Object.keys(stats).length === 0) continue;
    out.push(`## Backup, ${dataset.id} (${bytes(dataset.streamBytes)} send stream)`, '');
    out.push(table(TOOL_HEADER, toolRows(stats, BACKUPS)), '');
    const peers = (['aws-upload', 'rclone-upload', 'aws-upload-matched', 'rclone-upload-matched'] as const).filter(
      (p) => stats[p] !== undefined,
    );
    if (stats['ours-backup'] !== undefined && peers.length > 0) {
      const names: Record<(typeof peers)[number], string> = {
        'aws-upload': 'vs awscli',
        'rclone-upload': 'vs rclone',
        'aws-upload-matched': 'vs awscli, matched',
        'rclone-upload-matched': 'vs rclone, matched',
      };
      out.push(table(['ours (README config) / peer (medians)', ...peers.map((p) => names[p])], ratioRows(stats, 'ours-backup', peers)), '');
    }
    if (RESTORES.some((tool) => stats[tool] !== undefined)) {
      out.push(`## Restore, ${dataset.id}`, '');
      out.push(table(TOOL_HEADER, toolRows(stats, RESTORES)), '');
      if (stats['ours-restore'] !== undefined && stats['aws-restore'] !== undefined)
        out.push(table(['ours (`--verify none`) / peer (medians)', 'vs awscli'], ratioRows(stats, 'ours-restore', ['aws-restore'])), '');
    }
  }
  out.push(
    "The targets compare against the peers with their own defaults, as a user who pipes `btrfs send` into them gets them; the matched runs (our part size and concurrency) are for diagnosis. The restores' comparison uses `--verify none`, since the peer verifies nothing afterwards; ours still checks every part's SHA-256 against the manifest before a byte reaches `btrfs receive`, and the Received UUID after it. The default verification (`restore.verify_mode`) adds a comparison of the restored tree against the source snapshot.",
    '',
  );
  return out;
}

/** Pipeline CPU seconds per GiB of send stream, every tool at every size. */
function cpuSection(results: Results, evaluation: Evaluation): string[] {
  const ids = results.datasets.map((d) => d.id);
  const tools = (Object.keys(LABELS) as ToolId[]).filter(
    (tool) => !SMALL_STREAMS.has(tool) && ids.some((id) => evaluation.stats[id]?.[tool] !== undefined),
  );
  const rows = tools.map((tool) => [
    LABELS[tool],
    ...ids.map((id) => {
      const s = evaluation.stats[id]?.[tool];
      return s === undefined ? '-' : range(s.cpuPerGiB, f2);
    }),
  ]);
  for (const link of evaluation.link)
    rows.push([
      `${LABELS[link.tool]}, rate-limited ${f0(link.rateBitsPerSecond / 1e6)} Mbit/s`,
      ...ids.map((id) => (id === results.link?.settings.dataset ? range(link.cpuPerGiB, f2) : '-')),
    ]);
  for (const cap of evaluation.cap)
    rows.push([
      `${LABELS[cap.tool]}, rate cap`,
      ...ids.map((id) => (id === results.cap?.settings.dataset ? range(cap.cpuPerGiB, f2) : '-')),
    ]);
  if (rows.length === 0) return [];
  return [
    '## CPU seconds per GiB',
    '',
    "User + system CPU of the whole pipeline (ours with the `btrfs send` or `receive` it runs; a peer and its `btrfs` process) per GiB of send stream, medians (min-max). The gateway's CPU is not in it.",
    '',
    table(['tool', ...ids], rows),
    '',
  ];
}

function incrementalSection(results: Results, evaluation: Evaluation): string[] {
  const incRuns = results.runs.filter((run) => run.tool === 'inc');
  if (incRuns.length === 0) return [];
  const fulls = results.runs.filter((run) => run.tool === 'inc-full');
  const empties = results.runs.filter((run) => run.tool === 'inc-empty');
  const peerEmpties = results.runs.filter((run) => run.tool === 'aws-inc-empty');
  const defaults = results.settings.defaults;
  const out = [`## Incremental backups (${incRuns[0]?.dataset ?? ''} dataset)`, ''];
  out.push(
    table(
      [
        'rep',
        'changed',
        'full wall s',
        'full stream',
        'incremental wall s',
        'incremental stream',
        'parts',
        'time inc/full',
        'one new file: ours s',
        'peer s',
        'ours/peer',
      ],
      incRuns.map((run) => {
        const full = fulls.find((candidate) => candidate.round === run.round);
        const empty = empties.find((candidate) => candidate.round === run.round);
        const peer = peerEmpties.find((candidate) => candidate.round === run.round);
        return [
          String(run.round),
          run.changedBytes === undefined ? '-' : bytes(run.changedBytes),
          full === undefined ? '-' : f2(full.wallSeconds),
          full === undefined ? '-' : bytes(full.streamBytes),
          f2(run.wallSeconds),
          bytes(run.streamBytes),
          String(partsOf(run.streamBytes, defaults)),
          ratioCell(run.wallSeconds, full?.wallSeconds),
          empty === undefined ? '-' : f2(empty.wallSeconds),
          peer === undefined ? '-' : f2(peer.wallSeconds),
          ratioCell(empty?.wallSeconds, peer?.wallSeconds),
        ];
      }),
    ),
    '',
  );
  const inc = anywhere(evaluation.stats, 'inc');
  const full = anywhere(evaluation.stats, 'inc-full');
  if (inc !== undefined && full !== undefined)
    out.push(
      `Medians: the incremental of a ~5% change took ${f2(inc.wall.median)} s and sent ${bytes(inc.streamBytes.median)} against the full's ${f2(full.wall.median)} s and ${bytes(full.streamBytes.median)}: ${pct(inc.wall.median / full.wall.median)} of the time for ${pct(inc.streamBytes.median / full.streamBytes.median)} of the bytes.`,
    );
  const empty = anywhere(evaluation.stats, 'inc-empty');
  const peer = anywhere(evaluation.stats, 'aws-inc-empty');
  if (empty !== undefined && peer !== undefined)
    out.push(
      `After one new 4 KiB file, ours (\`backup --once\`: snapshot, send, upload, manifest, pointer, retention) took ${f2(empty.wall.median)} s for ${bytes(empty.streamBytes.median)}; \`btrfs send -p PARENT SNAP | aws s3 cp -\` of the same change (snapshots taken beforehand, untimed) ${f2(peer.wall.median)} s.`,
    );
  out.push('');
  return out;
}

function scalingSection(results: Results, evaluation: Evaluation): string[] {
  const points = results.scaling.flatMap((point) => {
    const s = evaluation.stats[point.dataset]?.[point.tool];
    return s === undefined ? [] : [{ point, s }];
  });
  if (points.length === 0) return [];
  const bound = rssBoundBytes(results.settings.defaults) / MiB;
  const out = ['## Scaling: full backups of several sizes (README config)', ''];
  out.push(
    table(
      ['size', 'subvolume data', 'send stream', 'wall s', 's per GiB of stream', 'peak RSS MiB', `bound ${f0(bound)} MiB`],
      points
        .sort((a, b) => a.point.bytes - b.point.bytes)
        .map(({ point, s }) => [
          point.label,
          bytes(point.bytes),
          bytes(s.streamBytes.median),
          range(s.wall, f2),
          f2(s.wall.median / (s.streamBytes.median / GiB)),
          range(s.rssMiB, f0),
          s.rssMiB.max <= bound ? 'PASS' : '**FAIL**',
        ]),
    ),
    '',
  );
  if (evaluation.scalingFit !== undefined) {
    const fit = evaluation.scalingFit;
    out.push(
      `Least-squares line through the medians: wall = ${f2(fit.intercept)} s + ${f2(fit.slope)} s per GiB of stream (R^2 = ${fit.r2.toFixed(3)}). The intercept is the fixed cost of a run`,
      '(Node and oclif start-up, snapshot, lock, manifests); time grows linearly when R^2 is close to 1.',
      '',
    );
  }
  return out;
}

function timeSection(results: Results, evaluation: Evaluation): string[] {
  const largest = results.datasets.at(-1);
  const stats = largest === undefined ? {} : (evaluation.stats[largest.id] ?? {});
  const tools: readonly ToolId[] = [
    'send',
    'ours-backup',
    'aws-upload',
    'rclone-upload',
    'ours-restore',
    'ours-restore-verify',
    'aws-restore',
  ];
  const rows = tools.flatMap((tool) => {
    const s = stats[tool];
    if (s === undefined) return [];
    return [
      [
        LABELS[tool],
        f2(s.wall.median),
        f1(s.cpu.median),
        f2(s.cpu.median / s.wall.median),
        PIPELINES.has(tool) ? f1(s.pipelineCpu.median - s.cpu.median) : '-',
        s.gatewayCpu === undefined ? '-' : f1(s.gatewayCpu.median),
        cpuShare(results, s),
        s.machineBusy === undefined ? '-' : pct(s.machineBusy.median),
      ],
    ];
  });
  if (rows.length === 0 || largest === undefined) return [];
  const out = [`## Where the time goes (${largest.id})`, ''];
  out.push(
    table(['run', 'wall s', 'tool CPU s', 'tool cores', 'other side CPU s', 'gateway CPU s', 'this run / machine', 'machine busy'], rows),
  );
  out.push('');
  out.push(
    `"tool cores" is the tool's CPU seconds per wall second. "this run / machine" adds the tool, the other side of a pipeline and the`,
    `gateway (radosgw, OSD and monitor, from /proc) and divides by the ${results.machine.cores} cores x wall time; "machine busy" is every process on the`,
    "machine (/proc/stat), other people's work included. A run whose machine was near 100% busy was bound by CPU shared between the",
    'client and the gateway (the gateway keeps the data in memory, the loop Btrfs sits in the page cache: no disk or network limit',
    'here). Ours counts the `btrfs send` or `receive` it runs in its own CPU (`/usr/bin/time` includes waited-for children); for',
    'peers "other side" is the separate `btrfs` process.',
    '',
  );
  return out;
}

function settingsText(s: OurSettings): string {
  return `part ${bytes(s.partSizeBytes)}, concurrency ${s.concurrency}, chunk ${bytes(s.chunkSizeBytes)}, \`checksum_mode = "${s.checksumMode}"\``;
}

function machineAndSettings(results: Results): string[] {
  const { machine, settings } = results;
  const out = ['## Machine', ''];
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
        ...(machine.restic === undefined ? [] : [['restic', machine.restic]]),
        ['gateway', `${machine.ceph}, memstore OSD, radosgw in this network namespace`],
        ['load average (1 min) at start / end', `${machine.loadAverage.start.toFixed(2)} / ${machine.loadAverage.end.toFixed(2)}`],
      ],
    ),
    '',
    '## Datasets and settings',
    '',
  );
  const rows: string[][] = results.datasets.map((d) => [
    `dataset ${d.id}`,
    `${bytes(d.bytes)} of random (incompressible) data on a loop Btrfs: ${d.largeFiles} large files (${bytes(d.largeBytes)}, 64-256 MiB each) and ${d.smallFiles} small files (${bytes(d.smallBytes)}, 1-64 KiB each), generated in ${f1(d.generateSeconds)} s; send stream ${bytes(d.streamBytes)}`,
  ]);
  if (results.scaling.some((p) => p.tool === 'scale-0.25'))
    rows.push([
      'scaling',
      results.scaling.map((p) => `${p.label} ${bytes(p.bytes)}`).join(', ') + ' (0.25x: reflinks of a quarter of the largest dataset)',
    ]);
  rows.push(
    ...(settings.executable === undefined
      ? []
      : [
          [
            'ours, executable',
            `\`${settings.executable}\`${settings.executable.startsWith('release/') ? ' (the release as installed: its own Node, the bundled CLI)' : ''}`,
          ],
        ]),
    [
      'ours, README config',
      `${settingsText(settings.defaults)}; the README's keys plus only what this gateway needs: endpoint, path-style, \`storage_class_chunks = "STANDARD"\` (it cannot thaw archive classes); SSE-S3 (the default)`,
    ],
    ['ours, tuned', settingsText(settings.tuned)],
    [
      'awscli, defaults',
      `its own: \`multipart_chunksize\` ${bytes(settings.awsDefaults.partSizeBytes)}, \`max_concurrent_requests\` ${settings.awsDefaults.concurrency}; \`--expected-size\`, \`--sse AES256\``,
    ],
    [
      'rclone, defaults',
      `its own: \`--s3-chunk-size\` ${bytes(settings.rcloneDefaults.partSizeBytes)}, \`--s3-upload-concurrency\` ${settings.rcloneDefaults.concurrency}; \`--s3-server-side-encryption AES256\`, provider Ceph, path-style`,
    ],
    [
      'awscli and rclone, matched',
      `part ${bytes(settings.matched.partSizeBytes)}, concurrency ${settings.matched.concurrency} (for diagnosis)`,
    ],
    ['rounds', `${settings.rounds}, each running every tool once, in an order rotated per round`],
    ['gateway memstore', bytes(settings.memstoreBytes)],
  );
  out.push(table(['', ''], rows), '');
  return out;
}

function methodSection(): string[] {
  return [
    '## Method',
    '',
    '- One loop Btrfs and one local gateway (`tools/testenv/bin/rgw.sh`) serve every tool. The peers send the same read-only',
    '  snapshot; ours takes its own snapshot of the unchanged subvolume (same content) as it does in production.',
    '- Every process runs under `/usr/bin/time -v` (peak RSS, user + system CPU); the harness times each whole run, pipelines',
    "  included. Peak RSS is the measured process's (ours, or the peer's uploader/downloader). MB/s is 10^6 bytes of the send stream per second.",
    "- After each run its objects are deleted and the gateway's garbage collection is forced, so memory does not fill; restored",
    '  subvolumes are deleted. Nothing of that is timed.',
    '- The incremental check repeats: full backup, change ~5% of the data in place (ranges of a few large files, an append,',
    '  rewritten small files), `backup --once`; then one new 4 KiB file and `backup --once` again, against the peer pipeline',
    '  `btrfs send -p` of two read-only snapshots (taken untimed) into `aws s3 cp -`.',
    '- The rate-limited runs and the rate cap: see their sections; `tools/testenv/bin/netns-link.sh` makes the link.',
    '',
  ];
}

export function renderMarkdown(results: Results, evaluation = evaluate(results)): string {
  const failed = evaluation.targets.filter((target) => !target.pass);
  const out: string[] = [];
  out.push('# Benchmark: btrfs-to-s3 against the pipelines users would otherwise build');
  out.push('');
  out.push(
    `Generated by \`pnpm bench\` (\`bench/\`) on ${results.finishedAt.slice(0, 10)}; do not edit by hand. Every run rewrites this page;`,
  );
  out.push(
    '`pnpm bench -- --report-only` renders it again from `bench/results/latest.json`. Issue 19 defines the targets (with issues 8 and 17).',
  );
  out.push(
    `One run: datasets ${results.datasets.map((d) => d.id).join(' and ')}, ${results.settings.rounds} interleaved round(s), ${Math.round(results.durationSeconds / 60)} min in all. All figures are medians`,
  );
  out.push('over the rounds, with (min-max); ratios are ours / peer of the medians. Only ratios from one run mean anything: the');
  out.push('machine is shared, so absolute times move between runs. [performance.md](performance.md) says what bounds each target.');
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
  out.push(`![Throughput per tool at the largest dataset: MB/s of the btrfs send stream, median with min-max whiskers](${CHART_FILE})`);
  out.push('');
  out.push(...comparisonSections(results, evaluation));
  out.push(...cpuSection(results, evaluation));
  out.push(...linkSection(results, evaluation));
  out.push(...capSection(results, evaluation));
  out.push(...sealedSection(results, evaluation));
  out.push(...incrementalSection(results, evaluation));
  out.push(...scalingSection(results, evaluation));
  out.push(...startupSection(results.startup));
  out.push(...timeSection(results, evaluation));
  out.push(...profileSection(results));
  out.push(...machineAndSettings(results));
  out.push(...methodSection());
  return out.join('\n');
}

function sealedSection(results: Results, evaluation: Evaluation): string[] {
  const sealed = anywhere(evaluation.stats, 'sealed-backup');
  if (sealed === undefined) return [];
  const stats = evaluation.stats[sealed.dataset] ?? {};
  return [
    `## Encryption and compression (${sealed.dataset})`,
    '',
    table(TOOL_HEADER, toolRows(stats, ['ours-backup', 'sealed-backup', 'ours-restore', 'sealed-restore'])),
    '',
    'The same dataset (incompressible: the worst case for compression, which then only costs) backed up and restored plain and with ' +
      '`compression = "zstd"` and one age recipient. The budget compares CPU seconds per GiB of send stream (see Targets).' +
      (results.compression === undefined
        ? ''
        : ` Text-heavy data (${bytes(results.compression.textBytes)} of service logs) stored ${pct(results.compression.storedBytes / results.compression.streamBytes)} of its send stream.`),
    '',
  ];
}

/** Only the sections of a --link-only or --cap-only run, for the terminal. */
export function renderPartial(results: Results, evaluation = evaluate(results)): string {
  return [...linkSection(results, evaluation), ...capSection(results, evaluation)].join('\n');
}

/** One line per target, for the terminal. */
export function targetLine(target: Target): string {
  return `${target.pass ? 'PASS' : 'FAIL'}: ${target.title}: measured ${target.measured}, limit ${target.limit} (${target.detail})`;
}

/** The medians worth printing at the end of a run. */
export function summaryLines(evaluation: Evaluation, startup?: Results['startup']): string[] {
  const lines: string[] = [];
  for (const [dataset, perTool] of Object.entries(evaluation.stats)) {
    for (const s of Object.values(perTool)) {
      if (s === undefined) continue;
      lines.push(
        `${dataset} ${LABELS[s.tool].replace(/`/g, '')}: wall ${f2(s.wall.median)} s, ${f0(s.throughput.median)} MB/s, peak RSS ${f0(s.rssMiB.median)} MiB, ` +
          `CPU ${f1(s.pipelineCpu.median)} s${SMALL_STREAMS.has(s.tool) ? '' : ` (${f2(s.cpuPerGiB.median)} s/GiB)`} (n=${s.n})`,
      );
    }
  }
  return startup === undefined ? lines : [...lines, ...startupLines(startup)];
}
