// Medians, ranges and ratios: the benchmark reports medians of interleaved runs so that
// noise on a shared machine does not decide a comparison.

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  // Even counts: the mean of the two middle values.
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('summary of no values');
  return { n: values.length, median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** ours / peer; undefined when the peer's value is 0 or missing (no meaningful ratio). */
export function ratio(ours: number | undefined, peer: number | undefined): number | undefined {
  if (ours === undefined || peer === undefined || peer === 0 || !Number.isFinite(ours) || !Number.isFinite(peer)) return undefined;
  return ours / peer;
}

export interface LinearFit {
  /** Seconds at zero bytes: fixed cost per run. */
  readonly intercept: number;
  /** Seconds per unit of x. */
  readonly slope: number;
  /** Coefficient of determination: 1 is a perfect line. */
  readonly r2: number;
}

/** Least squares y = intercept + slope x; needs two distinct x values. */
export function linearFit(points: readonly { readonly x: number; readonly y: number }[]): LinearFit | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
  const sxx = points.reduce((sum, p) => sum + (p.x - meanX) ** 2, 0);
  if (sxx === 0) return undefined;
  const sxy = points.reduce((sum, p) => sum + (p.x - meanX) * (p.y - meanY), 0);
  const slope = sxy / sxx;
  const intercept = meanY - slope * meanX;
  const ssTot = points.reduce((sum, p) => sum + (p.y - meanY) ** 2, 0);
  const ssRes = points.reduce((sum, p) => sum + (p.y - (intercept + slope * p.x)) ** 2, 0);
  return { intercept, slope, r2: ssTot === 0 ? 1 : 1 - ssRes / ssTot };
}
