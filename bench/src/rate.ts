// Rates as links are sold and tools spell them, and the steady rate of an upload from the
// byte counts a relay sampled: what an upload rate cap is judged on.
import type { ByteSample } from './relay';

export class RateError extends Error {}

// Bits are 1000-based (a 100 Mbit/s link moves 12.5 MB/s); byte units as written.
const RATE_UNITS: Record<string, number> = {
  kbit: 1000 / 8,
  Mbit: 1e6 / 8,
  Gbit: 1e9 / 8,
  'B/s': 1,
  'kB/s': 1e3,
  'MB/s': 1e6,
  'KiB/s': 2 ** 10,
  'MiB/s': 2 ** 20,
};

/** "100Mbit", "1Gbit", "12.5MB/s", "6MiB/s" to bytes per second. */
export function parseRate(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(kbit|Mbit|Gbit|B\/s|kB\/s|MB\/s|KiB\/s|MiB\/s)(?:\/s)?$/.exec(text.trim());
  const unit = match?.[2] === undefined ? undefined : RATE_UNITS[match[2]];
  if (match?.[1] === undefined || unit === undefined)
    throw new RateError(`"${text}" is not a rate (e.g. 100Mbit, 1Gbit, 12.5MB/s, 6MiB/s)`);
  const bytes = Number(match[1]) * unit;
  if (!(bytes > 0)) throw new RateError(`"${text}" is not a positive rate`);
  return bytes;
}

/** "100 Mbit/s" (whole megabits where exact), from bytes per second. */
export function formatRate(bytesPerSecond: number): string {
  const mbit = (bytesPerSecond * 8) / 1e6;
  if (mbit >= 1000 && Number.isInteger(mbit / 1000)) return `${mbit / 1000} Gbit/s`;
  return `${Number.isInteger(mbit) ? mbit : mbit.toFixed(1)} Mbit/s`;
}

/** "40ms", "0.1s" or "40" (ms) to milliseconds. */
export function parseMilliseconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(text.trim());
  if (match?.[1] === undefined) throw new RateError(`"${text}" is not a duration (e.g. 40ms)`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** The time (ms) at which the count reached `bytes`, interpolated between samples. */
function timeAt(samples: readonly ByteSample[], bytes: number): number {
  const first = samples[0];
  if (first === undefined) throw new RateError('no samples');
  if (bytes <= first.bytes) return first.ms;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as ByteSample;
    const b = samples[i] as ByteSample;
    if (b.bytes >= bytes) return b.bytes === a.bytes ? b.ms : a.ms + ((bytes - a.bytes) / (b.bytes - a.bytes)) * (b.ms - a.ms);
  }
  return (samples[samples.length - 1] as ByteSample).ms;
}

export interface SteadyRate {
  /** From the moment 5% of the bytes had gone to the moment 95% had (ms, the samples' clock). */
  readonly fromMs: number;
  readonly toMs: number;
  readonly bytes: number;
  readonly bytesPerSecond: number;
}

/**
 * The rate between 5% and 95% of the bytes a run sent (`samples`: cumulative counts, from
 * before its first byte to after its last): the start (process start-up, a burst the
 * limiter allows at first) and the end (the last parts finishing) are left out.
 */
export function steadyRate(samples: readonly ByteSample[], edge = 0.05): SteadyRate {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined || last.bytes <= first.bytes) throw new RateError('no bytes were sent');
  const total = last.bytes - first.bytes;
  const fromMs = timeAt(samples, first.bytes + edge * total);
  const toMs = timeAt(samples, first.bytes + (1 - edge) * total);
  const bytes = (1 - 2 * edge) * total;
  // Interpolation alone would make a rate of two samples; it takes a few inside the span to show one.
  if (samples.filter((sample) => sample.ms >= fromMs && sample.ms <= toMs).length < 2)
    throw new RateError('the bytes were sent within about one sample: too short to judge a rate');
  return { fromMs, toMs, bytes, bytesPerSecond: bytes / ((toMs - fromMs) / 1000) };
}

/**
 * steadyRate where it can be judged; else the whole run's rate (a run too short or that sent
 * nothing), so a report still shows it, and a span under a minute says it was not judged.
 */
export function steadyOrWhole(samples: readonly ByteSample[]): SteadyRate {
  try {
    return steadyRate(samples);
  } catch (error) {
    if (!(error instanceof RateError)) throw error;
    const first = samples[0] ?? { ms: 0, bytes: 0 };
    const last = samples[samples.length - 1] ?? first;
    const ms = Math.max(1, last.ms - first.ms);
    const bytes = last.bytes - first.bytes;
    return { fromMs: first.ms, toMs: first.ms + ms, bytes, bytesPerSecond: bytes / (ms / 1000) };
  }
}

/** The highest rate over any span of `windowMs` inside [fromMs, toMs] (samples about a second apart). */
export function peakRate(samples: readonly ByteSample[], windowMs: number, fromMs: number, toMs: number): number | undefined {
  const inside = samples.filter((sample) => sample.ms >= fromMs && sample.ms <= toMs);
  let peak: number | undefined;
  for (let i = 0; i < inside.length; i++) {
    const start = inside[i] as ByteSample;
    const end = inside.find((sample) => sample.ms - start.ms >= windowMs);
    if (end === undefined) break;
    const rate = (end.bytes - start.bytes) / ((end.ms - start.ms) / 1000);
    peak = peak === undefined ? rate : Math.max(peak, rate);
  }
  return peak;
}
