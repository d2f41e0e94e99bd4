import { evaluate, niceMax, partsOf, renderMarkdown, renderSvg, summaryLines, targetLine } from './report';
import type { Results, RunRecord, StartupResult, ToolId } from './results';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const STREAM = 2 * GiB;

/** One run: wall seconds, peak RSS in MiB, CPU seconds (all user), and optional pipeline side. */
function runOf(tool: ToolId, round: number, wall: number, rssMiB: number, cpu: number, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    tool,
    round,
    wallSeconds: wall,
    streamBytes: STREAM,
    main: { wallSeconds: wall, userSeconds: cpu, systemSeconds: 0, maxRssKiB: rssMiB * 1024 },
    gatewayCpuSeconds: 10,
    machineBusy: 0.9,
    ...extra,
  };
}

/** Three rounds of every tool; `walls` gives each tool's three wall times, `cpu` the first round's CPU seconds (then +1, +2). */
function results(
  walls: Partial<Record<ToolId, [number, number, number]>> = {},
  rss: Partial<Record<ToolId, number>> = {},
  cpu: Partial<Record<ToolId, number>> = {},
): Results {
  const defaults: Record<ToolId, [number, number, number]> = {
    send: [2.5, 2.4, 2.6],
    'ours-backup': [10, 11, 12],
    'aws-upload': [14, 13, 15],
    'rclone-upload': [18, 17, 19],
    'ours-restore': [8, 9, 10],
    'ours-restore-sample': [12, 13, 14],
    'aws-restore': [12, 12.5, 13],
    'scale-0.25': [3, 3.1, 3.2],
    'scale-0.5': [5.5, 5.6, 5.7],
    'inc-full': [10, 10.5, 11],
    inc: [0.9, 1, 1.1],
    'sealed-backup': [12, 13, 14],
    'sealed-restore': [10, 11, 12],
  };
  const runs: RunRecord[] = [];
  for (const tool of Object.keys(defaults) as ToolId[]) {
    const w = walls[tool] ?? defaults[tool];
    w.forEach((wall, index) => {
      const pipeline = tool === 'aws-upload' || tool === 'rclone-upload' || tool === 'aws-restore';
      const streamBytes = tool === 'scale-0.25' ? STREAM / 4 : tool === 'scale-0.5' ? STREAM / 2 : tool === 'inc' ? STREAM / 20 : STREAM;
      runs.push({
        ...runOf(
          tool,
          index + 1,
          wall,
          rss[tool] ?? 300 + index,
          (cpu[tool] ?? 5) + index,
          pipeline ? { source: { wallSeconds: wall, userSeconds: 0.5, systemSeconds: 1, maxRssKiB: 4096 } } : {},
        ),
        streamBytes,
        ...(tool === 'inc' ? { changedBytes: STREAM / 20 } : {}),
      });
    });
  }
  return {
    schema: 1,
    startedAt: '2026-11-25T12:00:00.000Z',
    finishedAt: '2026-11-25T12:20:00.000Z',
    durationSeconds: 1200,
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
      ceph: 'ceph version 16.2.15 pacific (stable)',
      loadAverage: { start: 1.5, end: 2.5 },
    },
    settings: { sizeBytes: STREAM, rounds: 3, partSizeBytes: 128 * MiB, concurrency: 4, chunkSizeBytes: 200 * GiB, memstoreBytes: 6 * GiB },
    dataset: {
      bytes: STREAM,
      largeFiles: 10,
      largeBytes: 0.8 * STREAM,
      smallFiles: 12000,
      smallBytes: 0.2 * STREAM,
      streamBytes: STREAM,
      generateSeconds: 4,
      scaling: [
        { tool: 'scale-0.25', label: '0.25x', fraction: 0.25, subvolume: 'data-quarter', bytes: STREAM / 4 },
        { tool: 'scale-0.5', label: '0.5x', fraction: 0.5, subvolume: 'data-half', bytes: STREAM / 2 },
        { tool: 'ours-backup', label: '1x', fraction: 1, subvolume: 'data', bytes: STREAM },
      ],
    },
    runs,
    compression: { textBytes: 64 * 2 ** 20, streamBytes: 65 * 2 ** 20, storedBytes: 20 * 2 ** 20 },
  };
}

function target(r: Results, id: string) {
  const found = evaluate(r).targets.find((t) => t.id === id);
  if (found === undefined) throw new Error(`no target ${id}`);
  return found;
}

describe('targets', () => {
  it('all pass when ours is fast enough, lean and the incremental cheap', () => {
    const evaluation = evaluate(results());
    expect(evaluation.targets.map((t) => [t.id, t.pass])).toEqual([
      ['backup', true],
      ['restore', true],
      ['rss', true],
      ['incremental', true],
      ['sealed-backup-cpu', true],
      ['sealed-restore-cpu', true],
      ['compression', true],
    ]);
  });

  it('holds zstd + age to 1.3x the plain CPU per GiB, and text to 70% stored', () => {
    // Plain backup CPU median 10 s; sealed 14 s is 1.4x and fails, 13 s is 1.3x and passes.
    expect(target(results({}, {}, { 'ours-backup': 9, 'sealed-backup': 13 }), 'sealed-backup-cpu')).toMatchObject({
      pass: false,
      detail: 'zstd + age / plain 1.40, target <= 1.30',
    });
    expect(target(results({}, {}, { 'ours-backup': 9, 'sealed-backup': 12 }), 'sealed-backup-cpu').pass).toBe(true);
    expect(target(results({}, {}, { 'ours-restore': 9, 'sealed-restore': 13 }), 'sealed-restore-cpu').pass).toBe(false);
    const base = results();
    const poorly = { ...base, compression: { textBytes: 1, streamBytes: 100, storedBytes: 71 } };
    expect(target(poorly, 'compression')).toMatchObject({ pass: false, detail: 'stored/stream 0.71, target <= 0.70' });
  });

  it('compares the backup with the faster peer, by median', () => {
    // awscli median 14 s, rclone 12 s: the limit is 0.9 x 12 = 10.8 s; ours median 11 s fails.
    const t = target(results({ 'rclone-upload': [12, 30, 11.5] }), 'backup');
    expect(t.pass).toBe(false);
    expect(t.limit).toContain('10.80 s');
    expect(t.limit).toContain('rclone');
    expect(t.detail).toContain('ours/peer 0.92');
  });

  it('passes at exactly 0.9 x the peer', () => {
    expect(target(results({ 'ours-backup': [9, 9, 9], 'aws-upload': [10, 10, 10] }), 'backup').pass).toBe(true);
    expect(target(results({ 'ours-backup': [9.01, 9.01, 9.01], 'aws-upload': [10, 10, 10] }), 'backup').pass).toBe(false);
  });

  it('fails a restore slower than 0.9 x the peer restore and says by how much', () => {
    const t = target(results({ 'ours-restore': [12, 12, 12] }), 'restore');
    expect(t.pass).toBe(false);
    expect(t.measured).toBe('12.00 s');
    expect(t.detail).toMatch(/ours\/peer 0\.96.*over the limit/);
  });

  it('fails the RSS bound when any size is over it, and names every size', () => {
    const t = target(results({}, { 'scale-0.5': 700 }), 'rss');
    expect(t.pass).toBe(false);
    expect(t.limit).toBe('612 MiB');
    expect(t.detail).toBe('0.25x: 301 MiB, 0.5x: 700 MiB, 1x: 301 MiB');
  });

  it('fails an incremental above 10% of the full', () => {
    const t = target(results({ inc: [1.2, 1.3, 1.1] }), 'incremental');
    expect(t.pass).toBe(false);
    expect(t.measured).toBe('1.20 s (11% of 10.50 s)');
  });

  it('fails a target it has no runs for', () => {
    const r = results();
    const t = target({ ...r, runs: r.runs.filter((run) => run.tool !== 'aws-restore') }, 'restore');
    expect(t.pass).toBe(false);
    expect(t.measured).toBe('no data');
  });

  it('prints one line per target', () => {
    expect(targetLine(target(results({ inc: [2, 2, 2] }), 'incremental'))).toMatch(/^FAIL: Incremental of a 5% change/);
  });
});

describe('renderMarkdown', () => {
  const page = renderMarkdown(results());

  it('shows medians with their range, and ratios of medians', () => {
    // ours-backup 10/11/12 s; 2 GiB stream in 11 s is 195 MB/s (10^6 bytes).
    expect(page).toContain('| btrfs-to-s3 `backup --full` | 3 | 11.00 (10.00-12.00) | 195 (179-215) | 301 (300-302) |');
    // ours 11 s / awscli 14 s and / rclone 18 s.
    expect(page).toContain('| wall time | 0.79 | 0.61 |');
    // Restore: 9 s / 12.5 s.
    expect(page).toMatch(/\| wall time \| 0\.72 \|/);
  });

  it('escapes | inside table cells', () => {
    expect(page).toContain('| `btrfs send \\| aws s3 cp -` | 3 | 14.00 (13.00-15.00) |');
    expect(page).not.toMatch(/\| `btrfs send \| aws/);
  });

  it('has the targets with PASS/FAIL, the machine, the scaling fit and the chart link', () => {
    expect(page).toContain('Every target passes.');
    expect(page).toMatch(/\| Peak RSS <= .* \| PASS \|/);
    expect(page).toContain('| CPU | AMD EPYC, 2 cores |');
    expect(page).toContain('| awscli | aws-cli/2.9.19 |');
    expect(page).toContain('| 0.5x | 1.00 GiB | 1.00 GiB | 5.60 (5.50-5.70) | 5.60 | 301 (300-302) | PASS |');
    expect(page).toMatch(/wall = -?\d+\.\d\d s \+ \d+\.\d\d s per GiB/);
    expect(page).toContain('(benchmark-throughput.svg)');
  });

  it('counts and names the failing targets', () => {
    const failing = renderMarkdown(results({ 'ours-backup': [20, 20, 20], inc: [5, 5, 5] }));
    expect(failing).toContain('2 of 7 targets fail on this machine: backup, incremental.');
    expect(failing.match(/\*\*FAIL\*\*/g)?.length).toBe(2);
  });

  it('shows the incremental per repetition', () => {
    expect(page).toContain('| 1 | 102.4 MiB | 10.00 | 2.00 GiB | 0.90 | 102.4 MiB | 1 | 0.09 | 0.05 |');
    expect(page).toContain('makes 1 part(s) of at most 128.0 MiB, fewer than `s3.concurrency` (4)');
  });

  it('counts parts per chunk', () => {
    const settings = { partSizeBytes: 128 * MiB, chunkSizeBytes: 1024 * MiB };
    expect(partsOf(100 * MiB, settings)).toBe(1);
    expect(partsOf(2048 * MiB, settings)).toBe(16);
    expect(partsOf(1100 * MiB, settings)).toBe(9);
    expect(partsOf(2154032543, { partSizeBytes: 128 * MiB, chunkSizeBytes: 200 * GiB })).toBe(17);
  });
});

describe('renderSvg', () => {
  const svg = renderSvg(results());

  it('draws one bar per tool with a label, throughput as the value', () => {
    const bars = svg.match(/<rect class="bar" data-tool="([^"]+)"/g) ?? [];
    expect(bars).toHaveLength(7);
    for (const tool of ['send', 'ours-backup', 'aws-upload', 'rclone-upload', 'ours-restore', 'ours-restore-sample', 'aws-restore']) {
      expect(svg).toContain(`data-tool="${tool}"`);
    }
    expect(svg).toContain('>aws s3 cp</text>');
    expect(svg).toContain('>rclone rcat</text>');
    expect(svg).toContain('>195</text>'); // ours-backup median MB/s
  });

  it('draws min-max whiskers for every bar on the scale, and marks the source limit off scale', () => {
    // btrfs send at 859 MB/s is far above the others (at most 268 MB/s, a restore): it runs off the scale.
    expect(svg).toContain('859 (off scale)');
    expect(svg.match(/class="whisker"/g)).toHaveLength(6);
    expect(svg.match(/class="break"/g)).toHaveLength(1);
  });

  it('is well-formed enough: one root, escaped text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).not.toMatch(/<text[^>]*>[^<]*&(?!amp;|lt;|gt;|quot;)/);
  });

  it('leaves out tools without runs', () => {
    const r = results();
    const partial = renderSvg({ ...r, runs: r.runs.filter((run) => run.tool !== 'rclone-upload' && run.tool !== 'ours-restore-sample') });
    expect(partial.match(/class="bar"/g)).toHaveLength(5);
    expect(partial).not.toContain('rclone rcat');
  });
});

describe('niceMax', () => {
  it.each([
    [0, 1],
    [7, 10],
    [180, 200],
    [230, 250],
    [420, 500],
    [1000, 1000],
  ])('%d -> %d', (value, expected) => {
    expect(niceMax(value)).toBe(expected);
  });
});

describe('profile section', () => {
  it('shows each profiled run by category and its top functions', () => {
    const summary = {
      threads: 1,
      totalMs: 40_000,
      categories: [
        { name: 'idle (waiting on I/O)', ms: 30_000, share: 0.75 },
        { name: 'native functions called from JS (hashing, copies, syscalls)', ms: 10_000, share: 0.25 },
      ],
      top: [{ name: 'digest (native)', ms: 10_000, share: 0.25 }],
    };
    const page = renderMarkdown({ ...results(), profiles: [{ tool: 'ours-restore', wallSeconds: 45.5, streamBytes: STREAM, summary }] });
    expect(page).toContain('## CPU profiles of our runs');
    expect(page).toContain('| self time | restore (`--verify none`): 45.50 s, 2.00 GiB |');
    expect(page).toContain('| idle (waiting on I/O) | 75% (30.0 s) |');
    expect(page).toContain('| `digest (native)` | 10.00 | 25% |');
  });

  it('is left out without profiles', () => {
    expect(renderMarkdown(results())).not.toContain('CPU profiles');
  });
});

describe('fixed cost of a run', () => {
  const startup: StartupResult = {
    kind: 'release',
    executable: 'release/stage/btrfs-to-s3-0.1.0-linux-x64/bin/btrfs-to-s3',
    command: 'list --json',
    runs: [
      { firstRequestSeconds: 0.2, wallSeconds: 0.3, bareNodeSeconds: 0.04 },
      { firstRequestSeconds: 0.16, wallSeconds: 0.25, bareNodeSeconds: 0.032 },
      { firstRequestSeconds: 0.18, wallSeconds: 0.28, bareNodeSeconds: 0.03 },
    ],
  };

  it('shows the medians (min-max) in ms and the first request against a bare Node start', () => {
    const page = renderMarkdown({ ...results(), startup });
    expect(page).toContain('## Fixed cost of a run');
    expect(page).toContain('`btrfs-to-s3 list --json` on an empty prefix, 3 runs');
    expect(page).toContain(
      "Timed: the release's launcher, as `scripts/release.sh` last built it, `release/stage/btrfs-to-s3-0.1.0-linux-x64/bin/btrfs-to-s3`.",
    );
    expect(page).toContain('| exec to the first S3 request | 180 (160-200) |');
    expect(page).toContain('| exec to exit | 280 (250-300) |');
    expect(page).toContain('| bare `node -e 0` | 32 (30-40) |');
    expect(page).toContain('The first request goes out 5.6 x a bare Node start after exec (medians).');
  });

  it('is one line on the terminal', () => {
    expect(summaryLines(evaluate(results()), startup).at(-1)).toBe(
      'fixed cost of a run (release/stage/btrfs-to-s3-0.1.0-linux-x64/bin/btrfs-to-s3 list --json, n=3): exec to first S3 request 180 ms (160-200), 5.6 x a bare node -e 0 (32 ms); exec to exit 280 ms',
    );
  });

  it('is left out without a start-up case', () => {
    expect(renderMarkdown(results())).not.toContain('Fixed cost');
    expect(summaryLines(evaluate(results())).join('\n')).not.toContain('fixed cost');
  });
});
