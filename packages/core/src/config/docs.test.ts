import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { quantityUnit } from './quantity';
import { CONFIG_SECTIONS } from './schema';

/**
 * The configuration reference (docs/configuration.md) and the schema must agree:
 * the same keys per section, the same defaults, the same types. Any drift fails here.
 */
const doc = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'configuration.md'), 'utf8');

interface DocRow {
  readonly key: string;
  readonly type: string;
  readonly default: string;
}

/** The `| key | type | default | rule |` rows of one `### [section]` table. */
function documentedRows(section: string): DocRow[] {
  const start = doc.indexOf(`### \`[${section}]\``);
  if (start === -1) return [];
  const end = doc.indexOf('\n### ', start + 1);
  return doc
    .slice(start, end === -1 ? doc.indexOf('\n## ', start) : end)
    .split('\n')
    .flatMap((line) => {
      const cells = /^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|/.exec(line);
      return cells?.[1] === undefined || cells[2] === undefined || cells[3] === undefined
        ? []
        : [{ key: cells[1], type: cells[2].trim(), default: cells[3].trim() }];
    });
}

type AnySchema = v.GenericSchema & {
  readonly wrapped?: AnySchema;
  readonly pipe?: readonly { readonly type: string; readonly kind: string }[];
};

/**
 * The schema under `optional`: the type of the value it yields (the last schema of its
 * pipes: a size key reads text or a number and yields a number), every action of its
 * pipes, and its unit if it is a size or duration.
 */
function describeSchema(entry: AnySchema): { optional: boolean; base: string; actions: string[]; unit?: string } {
  const optional = entry.type === 'optional';
  const inner = optional && entry.wrapped !== undefined ? entry.wrapped : entry;
  const actions: string[] = [];
  let base = inner.type;
  const walk = (schema: AnySchema) => {
    base = schema.type;
    for (const item of schema.pipe ?? []) {
      if (item.kind === 'schema') {
        if (item !== schema.pipe?.[0]) base = item.type;
        walk(item as unknown as AnySchema);
      } else actions.push(item.type);
    }
  };
  walk(inner);
  return { optional, base, actions, unit: quantityUnit(entry) };
}

/** What the doc's type column says, as the schema's base type (and integer-ness, and whether it takes units). */
const DOC_TYPES: Record<string, { base: string; integer?: boolean; units?: 'size' | 'duration' | 'rate' }> = {
  string: { base: 'picklist|string' },
  path: { base: 'string' },
  URL: { base: 'string' },
  number: { base: 'number', integer: false },
  integer: { base: 'number', integer: true },
  'integer or size': { base: 'number', integer: true, units: 'size' },
  'number or duration': { base: 'number', integer: false, units: 'duration' },
  'integer or duration': { base: 'number', integer: true, units: 'duration' },
  'number or rate': { base: 'number', integer: false, units: 'rate' },
  boolean: { base: 'boolean' },
  'list of paths': { base: 'array' },
  'list of strings': { base: 'array' },
  table: { base: 'strict_object' },
};

/** The default column as a value: `"text"`, a number (with an optional note), true/false; undefined for required/none/AWS. */
function documentedDefault(cell: string): unknown {
  const literal = /^`([^`]+)`/.exec(cell)?.[1];
  return literal === undefined ? undefined : JSON.parse(literal);
}

const sections = Object.entries(CONFIG_SECTIONS).map(([section, schema]) => ({
  section,
  entries: schema.entries as Record<string, AnySchema>,
}));

/** The doc's word for a key's unit. */
const unitsOf = (unit: string | undefined) =>
  unit === undefined ? undefined : unit === 'bytes' ? 'size' : unit === 'bytes_per_second' ? 'rate' : 'duration';

describe('docs/configuration.md agrees with the schema', () => {
  it.each(sections.map(({ section, entries }) => [section, Object.keys(entries)] as const))(
    '[%s] documents exactly the schema keys',
    (section, keys) => {
      expect(
        documentedRows(section)
          .map((row) => row.key)
          .sort(),
      ).toEqual([...keys].sort());
    },
  );

  const rows = sections.flatMap(({ section, entries }) =>
    documentedRows(section).flatMap((row) =>
      entries[row.key] === undefined ? [] : [{ name: `${section}.${row.key}`, row, entry: entries[row.key] as AnySchema }],
    ),
  );

  it.each(rows)("$name: the documented type and default are the schema's", ({ row, entry }) => {
    const schema = describeSchema(entry);
    const type = DOC_TYPES[row.type];
    expect(type).toBeDefined();
    expect(type?.base.split('|')).toContain(schema.base);
    if (type?.integer !== undefined) expect(schema.actions.includes('integer')).toBe(type.integer);
    expect(unitsOf(schema.unit)).toBe(type?.units);

    const fallback = v.getDefault(entry as v.GenericSchema);
    if (row.default === 'required') expect(schema.optional).toBe(false);
    else if (row.default === 'none' || row.default === 'AWS')
      expect({ optional: schema.optional, fallback }).toEqual({ optional: true, fallback: undefined });
    else expect(fallback).toEqual(documentedDefault(row.default));
  });
});
