import { GiB, MiB, results, STREAMS } from './__fixtures__/results';
import { niceMax, renderSvg } from './chart';
import { capStats, evaluate, linkStats } from './evaluate';
import { partsOf, renderMarkdown, renderPartial, summaryLines, targetLine } from './report';
import type { Results, StartupResult } from './results';

function target(r: Results, id: string) {
  const found = evaluate(r).targets.find((t) => t.id === id);
  if (found === undefined)
    throw new Error(
      `no target ${id} in ${evaluate(r)
        .targets.map((t) => t.id)
        .join(', ')}`,
    );
  return found;
}

describe('targets', () => {
  it('all pass when ours is fast, lean and close to the link and the cap, per dataset where they are per size', () => {
    expect(evaluate(results()).targets.map((t) => [t.id, t.pass])).toEqual([
      ['backup@S', true],
      ['restore@S', true],
      ['restore-verify@S', true],
      ['backup-cpu@S', true],
      ['restore-cpu@S', true],
      ['backup@L', true],
      ['restore@L', true],
      ['restore-verify@L', true],
      ['backup-cpu@L', true],
      ['restore-cpu@L', true],
      ['link@100Mbit', true],
      ['link@500Mbit', true],
      ['cap', true],
      ['rss', true],
      ['inc-empty', true],
      ['incremental', true],
      ['sealed-backup-cpu', true],
      ['sealed-restore-cpu', true],
      ['compression', true],
    ]);
  });

  it('compares the backup with the faster peer at its defaults, by median, at each size', () => {
    // awscli median 14 s, rclone 12 s at L: the limit is 0.9 x 12 = 10.8 s; ours median 11 s fails there only.
    const r = results({ walls: { 'rclone-upload@L': [12, 30, 11.5] } });
    const t = target(r, 'backup@L');
    expect(t.pass).toBe(false);
    expect(t.limit).toContain('10.80 s');
    expect(t.limit).toContain('rclone');
    expect(t.detail).toContain('ours/peer 0.92');
    expect(target(r, 'backup@S').pass).toBe(true);
  });

  it('leaves the matched peers out of the backup target', () => {
    expect(target(results({ walls: { 'aws-upload-matched': [5, 5, 5] } }), 'backup@S').pass).toBe(true);
  });

  it('passes at exactly 0.9 x the peer', () => {
    expect(target(results({ walls: { 'ours-backup': [9, 9, 9], 'aws-upload': [10, 10, 10] } }), 'backup@S').pass).toBe(true);
    expect(target(results({ walls: { 'ours-backup': [9.01, 9.01, 9.01], 'aws-upload': [10, 10, 10] } }), 'backup@S').pass).toBe(false);
  });

  it('holds the restore to 0.9 x the peer with --verify none and 1.3 x with the default verification', () => {
    const t = target(results({ walls: { 'ours-restore': [12, 12, 12] } }), 'restore@S');
    expect(t.pass).toBe(false);
    expect(t.measured).toBe('12.00 s');
    expect(t.detail).toMatch(/ours\/peer 0\.96.*over the limit/);
    expect(target(results({ walls: { 'ours-restore-verify': [16, 16, 16] } }), 'restore-verify@S').pass).toBe(true);
    expect(target(results({ walls: { 'ours-restore-verify': [17, 17, 17] } }), 'restore-verify@S')).toMatchObject({
      pass: false,
      limit: '16.25 s (1.30 x 12.50 s)',
    });
  });

  it("holds backup CPU per GiB to 0.8 x awscli's whole pipeline, and the restore's to 1.0 x", () => {
    // awscli at S: 11 s + 1.5 s for btrfs send per GiB = 12.5; 0.8 x is 10.
    expect(target(results({ cpu: { 'ours-backup@S': 9 } }), 'backup-cpu@S')).toMatchObject({ pass: true, measured: '10.00 s/GiB' });
    expect(target(results({ cpu: { 'ours-backup@S': 9.5 } }), 'backup-cpu@S').pass).toBe(false);
    // The restore peer: 11 s + 1.5 s for btrfs receive per GiB.
    expect(target(results({ cpu: { 'ours-restore@S': 11.5 } }), 'restore-cpu@S').pass).toBe(true);
    expect(target(results({ cpu: { 'ours-restore@S': 12 } }), 'restore-cpu@S').pass).toBe(false);
  });

  it('wants 90% of the link rate, and no less than either peer', () => {
    expect(target(results(), 'link@100Mbit')).toMatchObject({
      pass: true,
      measured: '94.0%',
      limit: '>= 92.0% (`btrfs send | rclone rcat`)',
      detail: 'btrfs send | aws s3 cp - 80.0%, btrfs send | rclone rcat 92.0%',
    });
    expect(target(results({ shares: { 100e6: { 'ours-backup': 0.91 } } }), 'link@100Mbit').pass).toBe(false);
    expect(
      target(results({ shares: { 500e6: { 'ours-backup': 0.89, 'aws-upload': 0.5, 'rclone-upload': 0.5 } } }), 'link@500Mbit'),
    ).toMatchObject({
      pass: false,
      limit: '>= 90.0% (90%)',
    });
  });

  it('wants the cap within 5% over at least a minute, and shows the anchors', () => {
    expect(target(results(), 'cap')).toMatchObject({
      pass: true,
      measured: '80.8 Mbit/s (+1.0%) over 72 s',
      limit: '80 Mbit/s +-5%, >= 60 s',
      detail: 'btrfs send | rclone rcat +3.0%, btrfs send | restic backup --stdin +3.0%',
    });
    expect(target(results({ capOff: { 'ours-backup': 0.06 } }), 'cap').pass).toBe(false);
    expect(target(results({ capOff: { 'ours-backup': -0.049 } }), 'cap').pass).toBe(true);
    const short = target(results({ capSeconds: 50 }), 'cap');
    expect(short.pass).toBe(false);
    expect(short.detail).toMatch(/^the steady span is under a minute/);
  });

  it('holds every backup of ours to the bound of its own config, at every size', () => {
    const r = results({ rss: { 'ours-backup-tuned@S': 700 } });
    const t = target(r, 'rss');
    expect(t.pass).toBe(false);
    expect(t.measured).toBe('702 MiB (largest, S tuned)');
    expect(t.detail).toBe('S: 302 MiB, S tuned: 702 MiB, L: 302 MiB, L tuned: 302 MiB, 0.25x L: 302 MiB');
    const smaller = { ...r, settings: { ...r.settings, tuned: { ...r.settings.tuned, partSizeBytes: 64 * MiB } } };
    expect(target(smaller, 'rss').limit).toBe('356 MiB');
  });

  it('holds the near-empty incremental to the peer pipeline', () => {
    expect(target(results({ walls: { 'inc-empty': [0.8, 0.8, 0.8] } }), 'inc-empty')).toMatchObject({
      pass: false,
      limit: '0.70 s (1.00 x 0.70 s)',
    });
  });

  it('fails an incremental above 10% of the full', () => {
    const t = target(results({ walls: { inc: [1.2, 1.3, 1.1] } }), 'incremental');
    expect(t.pass).toBe(false);
    expect(t.measured).toBe('1.20 s (11% of 10.50 s)');
  });

  it('holds zstd + age to 1.3x the plain CPU per GiB of the same dataset, and text to 70% stored', () => {
    // Plain backup at S: 6 s per GiB; sealed 8 s is 1.33x and fails, 7.5 s passes.
    expect(target(results({ cpu: { 'sealed-backup': 7 } }), 'sealed-backup-cpu')).toMatchObject({
      pass: false,
      detail: 'zstd + age / plain 1.33, target <= 1.30',
    });
    expect(target(results({ cpu: { 'sealed-backup': 6.5 } }), 'sealed-backup-cpu').pass).toBe(true);
    const poorly = { ...results(), compression: { textBytes: 1, streamBytes: 100, storedBytes: 71 } };
    expect(target(poorly, 'compression')).toMatchObject({ pass: false, detail: 'stored/stream 0.71, target <= 0.70' });
  });

  it('fails a target it has no runs for', () => {
    const r = results();
    const t = target({ ...r, runs: r.runs.filter((run) => run.tool !== 'aws-restore') }, 'restore@L');
    expect(t.pass).toBe(false);
    expect(t.measured).toBe('no data');
  });

  it('has no link or cap targets when those parts did not run, and only them when they ran alone', () => {
    const ids = evaluate({ ...results(), link: undefined, cap: undefined }).targets.map((t) => t.id);
    expect(ids).not.toContain('cap');
    expect(ids.some((id) => id.startsWith('link@'))).toBe(false);
    const alone = evaluate({ ...results(), runs: [], scaling: [], compression: undefined }).targets.map((t) => t.id);
    expect(alone).toEqual(['link@100Mbit', 'link@500Mbit', 'cap']);
  });

  it('prints one line per target', () => {
    expect(targetLine(target(results({ walls: { inc: [2, 2, 2] } }), 'incremental'))).toMatch(/^FAIL: Incremental of a 5% change/);
  });
});

describe('linkStats and capStats', () => {
  it("gives each tool's share of the link and what the link carried", () => {
    const stats = linkStats(results().link?.runs ?? []);
    const ours = stats.find((s) => s.tool === 'ours-backup' && s.rateBitsPerSecond === 100e6);
    expect(ours?.share.median).toBeCloseTo(0.94, 6);
    expect(ours?.busy.median).toBeCloseTo(0.94 * 1.04, 6);
    expect(stats).toHaveLength(6);
  });

  it('judges the cap on the steady span', () => {
    const [ours] = capStats(results().cap?.runs ?? []);
    expect(ours?.tool).toBe('ours-backup');
    expect(ours?.steady.median).toBeCloseTo(10.1e6, -2);
    expect(ours?.windowSeconds.median).toBeCloseTo(72, 6);
  });
});

describe('renderMarkdown', () => {
  const page = renderMarkdown(results());

  it('has a backup table per dataset with medians, ranges and CPU per GiB, and ratios of medians', () => {
    expect(page).toContain('## Backup, S (1.00 GiB send stream)');
    expect(page).toContain('## Backup, L (2.00 GiB send stream)');
    // ours-backup at L: 10/11/12 s; 2 GiB in 11 s is 195 MB/s (10^6 bytes); CPU 6 s per 2 GiB.
    expect(page).toContain(
      '| btrfs-to-s3 `backup --full` | 3 | 11.00 (10.00-12.00) | 195 (179-215) | 301 (300-302) | 6.0 (5.0-7.0) | 6.0 (5.0-7.0) | 3.00 (2.50-3.50) | 10.0 (10.0-10.0) |',
    );
    // ours 11 s / awscli 14 s and / rclone 18 s, then the matched ones at S.
    expect(page).toContain('| ours (README config) / peer (medians) | vs awscli | vs rclone | vs awscli, matched | vs rclone, matched |');
    expect(page).toContain('| wall time | 0.79 | 0.61 | 0.85 | 0.69 |');
  });

  it('escapes | inside table cells', () => {
    expect(page).toContain('| `btrfs send \\| aws s3 cp -` | 3 | 14.00 (13.00-15.00) |');
    expect(page).not.toMatch(/\| `btrfs send \| aws/);
  });

  it('has CPU seconds per GiB for every tool at every size, the rate-limited ones and the capped ones', () => {
    expect(page).toContain('## CPU seconds per GiB');
    expect(page).toContain('| tool | S | L |');
    expect(page).toContain('| `btrfs send \\| rclone rcat`, matched | 7.50 (6.50-8.50) | 3.75 (3.25-4.25) |');
    expect(page).toContain('| btrfs-to-s3 `backup --full`, rate-limited 100 Mbit/s | 8.00 | - |');
    expect(page).toContain('| `btrfs send \\| restic backup --stdin`, rate cap | 3.91 | - |');
    expect(page).not.toContain('one new file | -');
  });

  it("gives each tool's share of the link rate, and the rate cap against its anchors", () => {
    expect(page).toContain('## Rate-limited link');
    expect(page).toContain('| 100 Mbit/s | btrfs-to-s3 `backup --full` | 1 | 91.38 | 94.0% | 97.8% | 200 | 8.00 |');
    expect(page).toContain('| 500 Mbit/s | `btrfs send \\| aws s3 cp -` | 1 | 28.63 | 60.0% | 62.4% | 200 | 8.00 |');
    expect(page).toMatch(/Unshaped, in the same run, the same dataset went at \(Mbit\/s, medians\): btrfs-to-s3 `backup --full` 780\.9/);
    expect(page).toContain('## Upload rate cap');
    expect(page).toContain(
      '| btrfs-to-s3 `backup --full` | `--max-upload-rate 80Mbit` | 1 | 80.0 Mbit/s | 80.8 Mbit/s | +1.0% | 72 s | 80.8 Mbit/s | 82.00 |',
    );
  });

  it('has the targets with PASS/FAIL, the machine, the scaling fit and the chart link', () => {
    expect(page).toContain('Every target passes.');
    expect(page).toMatch(/\| Peak RSS <= .* \| PASS \|/);
    expect(page).toContain('| CPU | AMD EPYC, 2 cores |');
    expect(page).toContain('| restic | restic 0.14.0 |');
    expect(page).toContain('| 0.25x L | 512.0 MiB | 512.0 MiB | 3.10 (3.00-3.20) | 6.20 | 301 (300-302) | PASS |');
    expect(page).toMatch(/wall = -?\d+\.\d\d s \+ \d+\.\d\d s per GiB/);
    expect(page).toContain('(benchmark-throughput.svg)');
    expect(page).toContain('| awscli, defaults | its own: `multipart_chunksize` 8.0 MiB, `max_concurrent_requests` 10;');
  });

  it('counts and names the failing targets', () => {
    const failing = renderMarkdown(results({ walls: { 'ours-backup@L': [20, 20, 20], inc: [5, 5, 5] } }));
    expect(failing).toContain('2 of 19 targets fail on this machine: backup@L, incremental.');
    expect(failing.match(/\*\*FAIL\*\*/g)?.length).toBe(2);
  });

  it('shows the incremental per repetition, with the near-empty one against the peer', () => {
    expect(page).toContain('## Incremental backups (L dataset)');
    expect(page).toContain('| 1 | 102.4 MiB | 10.00 | 2.00 GiB | 0.90 | 102.4 MiB | 1 | 0.09 | 0.60 | 0.70 | 0.86 |');
  });

  it('counts parts per chunk', () => {
    const settings = { partSizeBytes: 128 * MiB, chunkSizeBytes: 1024 * MiB };
    expect(partsOf(100 * MiB, settings)).toBe(1);
    expect(partsOf(2048 * MiB, settings)).toBe(16);
    expect(partsOf(1100 * MiB, settings)).toBe(9);
    expect(partsOf(2154032543, { partSizeBytes: 128 * MiB, chunkSizeBytes: 200 * GiB })).toBe(17);
  });

  it('renders the link and the cap alone for a part run', () => {
    const partial = renderPartial({ ...results(), runs: [], scaling: [] });
    expect(partial.startsWith('## Rate-limited link')).toBe(true);
    expect(partial).toContain('## Upload rate cap');
    expect(partial).not.toContain('Unshaped');
  });
});

describe('renderSvg', () => {
  const svg = renderSvg(results());

  it('draws one bar per tool at the largest dataset, throughput as the value', () => {
    const bars = svg.match(/<rect class="bar" data-tool="([^"]+)"/g) ?? [];
    expect(bars).toHaveLength(7);
    for (const tool of ['send', 'ours-backup', 'aws-upload', 'rclone-upload', 'ours-restore', 'ours-restore-verify', 'aws-restore']) {
      expect(svg).toContain(`data-tool="${tool}"`);
    }
    expect(svg).toContain('>aws s3 cp</text>');
    expect(svg).toContain('>195</text>'); // ours-backup median MB/s at L
    expect(svg).toContain('2.00 GiB stream');
  });

  it('draws min-max whiskers for every bar on the scale, and marks the source limit off scale', () => {
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
    const partial = renderSvg({ ...r, runs: r.runs.filter((run) => run.tool !== 'rclone-upload' && run.tool !== 'ours-restore-verify') });
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
    const page = renderMarkdown({
      ...results(),
      profiles: [{ tool: 'ours-restore', dataset: 'L', wallSeconds: 45.5, streamBytes: STREAMS.L, summary }],
    });
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
    expect(page).toContain('| exec to the first S3 request | 180 (160-200) |');
    expect(page).toContain('The first request goes out 5.6 x a bare Node start after exec (medians).');
  });

  it('is one line on the terminal, after the medians (CPU per GiB only for long streams)', () => {
    const lines = summaryLines(evaluate(results()), startup);
    expect(lines.at(-1)).toBe(
      'fixed cost of a run (release/stage/btrfs-to-s3-0.1.0-linux-x64/bin/btrfs-to-s3 list --json, n=3): exec to first S3 request 180 ms (160-200), 5.6 x a bare node -e 0 (32 ms); exec to exit 280 ms',
    );
    expect(lines).toContain('L btrfs-to-s3 backup --full: wall 11.00 s, 195 MB/s, peak RSS 301 MiB, CPU 6.0 s (3.00 s/GiB) (n=3)');
    expect(lines).toContain('L btrfs-to-s3 backup --once, one new file: wall 0.65 s, 0 MB/s, peak RSS 301 MiB, CPU 6.0 s (n=3)');
  });

  it('is left out without a start-up case', () => {
    expect(renderMarkdown(results())).not.toContain('Fixed cost');
    expect(summaryLines(evaluate(results())).join('\n')).not.toContain('fixed cost');
  });
});
