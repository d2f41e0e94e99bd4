export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** S3 multipart limits (AWS documentation, "Amazon S3 multipart upload limits"). */
export const S3_LIMITS = {
  minPartSize: 5 * MiB,
  maxPartSize: 5 * GiB,
  maxParts: 10_000,
  /** Portable default; AWS allows more today, so it is a config key, not a constant. */
  defaultMaxObjectSize: 5 * TiB,
} as const;

/** The unit of a size, duration or rate key, as its name ends (`part_size_bytes`, `prune_grace_hours`) or says (`max_upload_rate`). */
export type QuantityUnit = 'bytes' | 'seconds' | 'hours' | 'days' | 'bytes_per_second';

/**
 * Exactly these spellings: `M`, `G` or `KB` alone could mean either base, so they are refused
 * rather than guessed. Largest first, for formatSize.
 */
const SIZE_UNITS: Readonly<Record<string, bigint>> = {
  TiB: 1024n ** 4n,
  TB: 1000n ** 4n,
  GiB: 1024n ** 3n,
  GB: 1000n ** 3n,
  MiB: 1024n ** 2n,
  MB: 1000n ** 2n,
  KiB: 1024n,
  kB: 1000n,
  B: 1n,
};
export type DurationUnit = Exclude<QuantityUnit, 'bytes' | 'bytes_per_second'>;

/**
 * A rate's units: a size per second, or bits per second (1000-based, as links are sold:
 * `"50Mbit"` is 6,250,000 bytes a second). Exactly these spellings, with or without `/s`.
 */
const RATE_BITS: Readonly<Record<string, bigint>> = { Gbit: 1000n ** 3n, Mbit: 1000n ** 2n, kbit: 1000n, bit: 1n };

const DURATION_SECONDS = { d: 86_400n, h: 3_600n, m: 60n, s: 1n } as const;
const UNIT_SECONDS: Readonly<Record<DurationUnit, bigint>> = { seconds: 1n, hours: 3_600n, days: 86_400n };

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;
const PLAIN = new RegExp(`^${NUMBER}$`);
const SIZE = new RegExp(`^${NUMBER} ?(${Object.keys(SIZE_UNITS).join('|')})$`);
// Largest unit first, each at most once: "1h30m", not "30m1h" or "1h1h".
const DURATION = new RegExp(`^(?:${NUMBER}d)?(?:${NUMBER}h)?(?:${NUMBER}m)?(?:${NUMBER}s)?$`);

/** A value read from text, kept as an exact fraction so "1.1MB" is a whole number of bytes. */
export interface Quantity {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

function decimal(text: string, scale: bigint): Quantity {
  const [whole = '', fraction = ''] = text.split('.');
  const denominator = 10n ** BigInt(fraction.length);
  return { numerator: BigInt(whole + fraction) * scale, denominator };
}

function sum(a: Quantity, b: Quantity): Quantity {
  return { numerator: a.numerator * b.denominator + b.numerator * a.denominator, denominator: a.denominator * b.denominator };
}

/** Bytes written as `"512"`, `"128MiB"`, `"128 MiB"` or `"1.5GB"`; undefined for any other text. */
export function parseSize(text: string): Quantity | undefined {
  const plain = PLAIN.exec(text);
  if (plain?.[1] !== undefined) return decimal(plain[1], 1n);
  const match = SIZE.exec(text);
  const unit = match?.[2] === undefined ? undefined : SIZE_UNITS[match[2]];
  return match?.[1] === undefined || unit === undefined ? undefined : decimal(match[1], unit);
}

/** A duration in `unit`, written as `"90"` (in that unit), `"72h"`, `"1h30m"` or `"1.5d"`; undefined for any other text. */
export function parseDuration(text: string, unit: DurationUnit): Quantity | undefined {
  const plain = PLAIN.exec(text);
  if (plain?.[1] !== undefined) return decimal(plain[1], 1n);
  const match = DURATION.exec(text);
  if (match === null || text === '') return undefined;
  let seconds: Quantity = { numerator: 0n, denominator: 1n };
  Object.values(DURATION_SECONDS).forEach((scale, index) => {
    const amount = match[index + 1];
    if (amount !== undefined) seconds = sum(seconds, decimal(amount, scale));
  });
  return { numerator: seconds.numerator, denominator: seconds.denominator * UNIT_SECONDS[unit] };
}

const RATE = new RegExp(`^${NUMBER} ?(${[...Object.keys(RATE_BITS), ...Object.keys(SIZE_UNITS)].join('|')})(?:/s)?$`);

/** Bytes per second written as `"6250000"`, `"50Mbit"`, `"50 Mbit/s"` or `"6MiB/s"`; undefined for any other text. */
export function parseRate(text: string): Quantity | undefined {
  const plain = PLAIN.exec(text);
  if (plain?.[1] !== undefined) return decimal(plain[1], 1n);
  const match = RATE.exec(text);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const bits = RATE_BITS[match[2]];
  if (bits !== undefined) {
    const inBits = decimal(match[1], bits);
    return { numerator: inBits.numerator, denominator: inBits.denominator * 8n };
  }
  const bytes = SIZE_UNITS[match[2]];
  return bytes === undefined ? undefined : decimal(match[1], bytes);
}

export function isWhole({ numerator, denominator }: Quantity): boolean {
  return numerator % denominator === 0n;
}

/** The quantity as a number: exact when whole and at most 2^53 - 1, else the nearest double. */
export function quantityValue(quantity: Quantity): number {
  const { numerator, denominator } = quantity;
  return isWhole(quantity) ? Number(numerator / denominator) : Number(numerator) / Number(denominator);
}

/**
 * A number of bytes as a config size, in the largest unit that holds it exactly
 * (134217728 is `"128MiB"`, 2000000000 is `"2GB"`); a `*_bytes` key reads it back as the
 * same number. `bytes` itself when no unit holds it exactly (1536) or it is not a
 * positive whole number.
 */
export function formatSize(bytes: number): string | number {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return bytes;
  for (const [unit, scale] of Object.entries(SIZE_UNITS)) {
    if (scale > 1n && BigInt(bytes) % scale === 0n) return `${BigInt(bytes) / scale}${unit}`;
  }
  return bytes;
}
