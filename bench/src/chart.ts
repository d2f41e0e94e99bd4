// The results page's chart (docs/benchmark-throughput.svg): MB/s of the send stream per tool
// at the largest dataset, median with min-max whiskers; the source limit may run off the scale.
import { evaluate } from './evaluate';
import { bytes, f0, f1 } from './report-format';
import type { Results, ToolId } from './results';

const CHART: Partial<Record<ToolId, { lines: string[]; kind: 'source' | 'ours' | 'peer' }>> = {
  send: { lines: ['btrfs send', '> /dev/null'], kind: 'source' },
  'ours-backup': { lines: ['btrfs-to-s3', 'backup'], kind: 'ours' },
  'aws-upload': { lines: ['send |', 'aws s3 cp'], kind: 'peer' },
  'rclone-upload': { lines: ['send |', 'rclone rcat'], kind: 'peer' },
  'ours-restore': { lines: ['btrfs-to-s3', 'restore'], kind: 'ours' },
  'ours-restore-verify': { lines: ['restore', '(verified)'], kind: 'ours' },
  'aws-restore': { lines: ['aws s3 cp |', 'btrfs receive'], kind: 'peer' },
};

export const CHART_FILE = 'benchmark-throughput.svg';
const RESTORES: ReadonlySet<ToolId> = new Set(['ours-restore', 'ours-restore-verify', 'aws-restore']);

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
  const largest = results.datasets.at(-1);
  const stats = largest === undefined ? {} : (evaluation.stats[largest.id] ?? {});
  const bars = (Object.keys(CHART) as ToolId[]).flatMap((tool) => {
    const s = stats[tool];
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
    `<text x="${width / 2}" y="38" text-anchor="middle" fill="#555">${escapeXml(`${largest === undefined ? '-' : bytes(largest.streamBytes)} stream, ${results.settings.rounds} round(s), ${results.machine.cores} cores, ${results.finishedAt.slice(0, 10)}`)}</text>`,
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
