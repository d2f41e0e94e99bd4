import * as v from 'valibot';
import { type DurationUnit, isWhole, parseDuration, parseRate, parseSize, type Quantity, type QuantityUnit, quantityValue } from './units';

/**
 * Sizes and durations: a key named `*_bytes`, `*_seconds`, `*_hours` or `*_days` takes a
 * number in that unit, or text with units (`"128MiB"`, `"72h"`). The text is converted
 * first, so the key's own rules and the cross-key rules of the schema see only numbers.
 */

type NumberSchema = v.GenericSchema<number, number>;
/** A key's unit, and whether it takes only whole numbers of it. */
interface QuantityRule {
  readonly unit: QuantityUnit;
  readonly whole: boolean;
}

const DURATION_EXAMPLE: Readonly<Record<DurationUnit, string>> = { seconds: '"2m"', hours: '"72h"', days: '"7d"' };

function notAQuantity(unit: QuantityUnit): string {
  if (unit === 'bytes_per_second')
    return 'is not a rate: use a number of bytes per second, or a number and one of bit, kbit, Mbit, Gbit (bits per second, 1000-based) or a size unit per second, like "50Mbit" or "6MiB/s"';
  return unit === 'bytes'
    ? 'is not a size: use a number of bytes, or a number and one of B, kB, MB, GB, TB (1000-based) or KiB, MiB, GiB, TiB (1024-based), like "128MiB"'
    : `is not a duration: use a number of ${unit}, or numbers with d, h, m, s (largest first, as in "1h30m"), like ${DURATION_EXAMPLE[unit]}`;
}

function read(text: string, unit: QuantityUnit): Quantity | undefined {
  if (unit === 'bytes_per_second') return parseRate(text);
  return unit === 'bytes' ? parseSize(text) : parseDuration(text, unit);
}

/** What is wrong with `text` as a value of a key in `unit`, or its value. */
function convert(text: string, { unit, whole }: QuantityRule): { value: number } | { problem: string } {
  const shown = JSON.stringify(text);
  const quantity = read(text, unit);
  if (quantity === undefined) return { problem: `${shown} ${notAQuantity(unit)}` };
  if (whole && !isWhole(quantity)) return { problem: `${shown} is not a whole number of ${unit}` };
  const value = quantityValue(quantity);
  // Past 2^53 a double no longer holds every whole number, so such a size would be silently rounded.
  if (whole && !Number.isSafeInteger(value)) return { problem: `${shown} is too large (2^53 ${unit} or more)` };
  if (!Number.isFinite(value)) return { problem: `${shown} is too large` };
  return { value };
}

function quantity<const S extends NumberSchema>(inner: S, rule: QuantityRule) {
  const { unit } = rule;
  const expected =
    unit === 'bytes_per_second'
      ? 'a rate like "50Mbit"'
      : unit === 'bytes'
        ? 'a size like "128MiB"'
        : `a duration like ${DURATION_EXAMPLE[unit]}`;
  return v.pipe(
    v.union([v.number(), v.string()], (issue) => `must be a number of ${unit} or ${expected}, got ${issue.received}`),
    v.metadata({ unit }),
    v.rawTransform<number | string, number>(({ dataset, addIssue, NEVER }) => {
      if (typeof dataset.value === 'number') return dataset.value;
      const result = convert(dataset.value, rule);
      if ('value' in result) return result.value;
      addIssue({ message: result.problem });
      return NEVER;
    }),
    inner,
  );
}

/** A `*_bytes` key: a whole number of bytes, or text such as `"128MiB"`. */
export function size<const S extends NumberSchema>(inner: S) {
  return quantity(inner, { unit: 'bytes', whole: true });
}

/** A rate in bytes per second, or text such as `"50Mbit"` (bits per second) or `"6MiB/s"`. */
export function rate<const S extends NumberSchema>(inner: S) {
  return quantity(inner, { unit: 'bytes_per_second', whole: false });
}

/** A duration key that takes fractions (`prune_grace_hours = "90m"` is 1.5). */
export function duration<const S extends NumberSchema>(unit: DurationUnit, inner: S) {
  return quantity(inner, { unit, whole: false });
}

/** A duration key that takes only whole numbers of its unit (`"1.5s"` is refused by name). */
export function wholeDuration<const S extends NumberSchema>(unit: DurationUnit, inner: S) {
  return quantity(inner, { unit, whole: true });
}

/** The unit of a size or duration key (through `optional`), or undefined for any other key. */
export function quantityUnit(schema: v.GenericSchema): QuantityUnit | undefined {
  const inner: v.GenericSchema = 'wrapped' in schema && isSchema(schema.wrapped) ? schema.wrapped : schema;
  const { unit } = v.getMetadata(inner);
  return unit === 'bytes' || unit === 'seconds' || unit === 'hours' || unit === 'days' || unit === 'bytes_per_second' ? unit : undefined;
}

function isSchema(value: unknown): value is v.GenericSchema {
  return typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'schema';
}
