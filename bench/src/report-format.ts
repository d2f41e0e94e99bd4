// Number and table formatting shared by the results page's sections.
import { ratio, type Summary } from './stats';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export const f2 = (value: number) => value.toFixed(2);
export const f1 = (value: number) => value.toFixed(1);
export const f0 = (value: number) => value.toFixed(0);
export const pct = (value: number) => `${(value * 100).toFixed(0)}%`;
/** One decimal: shares of a link rate or a cap, where a percent matters. */
export const pct1 = (value: number) => `${(value * 100).toFixed(1)}%`;

export function range(summary: Summary, format: (value: number) => string): string {
  return summary.n > 1 ? `${format(summary.median)} (${format(summary.min)}-${format(summary.max)})` : format(summary.median);
}

export function ratioCell(ours: number | undefined, peer: number | undefined): string {
  const r = ratio(ours, peer);
  return r === undefined ? '-' : f2(r);
}

export function bytes(value: number): string {
  if (value >= GiB) return `${(value / GiB).toFixed(2)} GiB`;
  if (value >= MiB) return `${(value / MiB).toFixed(1)} MiB`;
  return `${(value / 1024).toFixed(1)} KiB`;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // A | in a cell (even inside backticks) would end the cell in GitHub's tables.
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** "5% under the limit" / "13% over the limit", for a measured value against an upper limit. */
export function againstLimit(measured: number, limit: number): string {
  return measured <= limit ? `${pct(1 - measured / limit)} under the limit` : `${pct(measured / limit - 1)} over the limit`;
}
