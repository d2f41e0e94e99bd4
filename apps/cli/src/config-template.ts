import { CONFIG_SECTIONS, formatSize } from '@org/btrfs-s3-core';
import { stringify } from 'smol-toml';
import * as v from 'valibot';

/** Example values for the keys a backup host must set: the template validates as written. */
const REQUIRED: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  snapshots: { base_dir: '/srv/.snapshots' },
  subvolumes: { paths: ['/srv/data', '/srv/home'] },
  s3: { bucket: 'example-backups', region: 'eu-central-1', prefix: 'host1' },
};

/** One line per section, above its table. */
const ABOUT: Readonly<Record<keyof typeof CONFIG_SECTIONS, string>> = {
  global: 'Logs, state, the lock, metrics and the spool.',
  schedule: 'When the timer runs and when a full is due.',
  snapshots: 'Where the read-only snapshots live (on the same Btrfs filesystem) and how many are kept.',
  subvolumes: 'The subvolumes to back up; the last component of each path names it in the bucket.',
  s3: 'The bucket. Credentials never go here: the AWS SDK finds them (environment, profile, role). One prefix per host.',
  encryption: 'Client-side age encryption: `btrfs-to-s3 key generate --output FILE` makes a key and prints its recipient.',
  restore: 'How restore, drill and verify read the bucket back.',
  drill: 'Where the monthly restore drill receives its test restores.',
  prices: 'Storage prices per GiB-month by class, for the estimated cost metric (defaults: AWS us-east-1, USD).',
};

/** A default as it reads best: a `*_bytes` key takes a size, and `"128MiB"` says more than 134217728. */
const shown = (key: string, value: unknown) => (key.endsWith('_bytes') && typeof value === 'number' ? formatSize(value) : value);

/** A key's value as TOML (`key = value`). */
const assignment = (key: string, value: unknown) => stringify({ [key]: value }).trim();

/**
 * The commented config `config init` writes: every section and key the schema knows, the
 * keys a backup host must set filled with examples, every other key commented out with
 * its default (or "no default"). Built from the schema, so it never lists a key that no
 * longer exists or misses a new one.
 */
export function configTemplate(): string {
  const lines = [
    '# btrfs-to-s3 configuration. Edit the uncommented values, then run',
    '#   btrfs-to-s3 config validate',
    '# Every key, default and rule: docs/configuration.md (share/doc/ in the release).',
    '# Commented keys show their defaults; uncomment one to change it.',
  ];
  for (const [section, schema] of Object.entries(CONFIG_SECTIONS) as unknown as [
    keyof typeof CONFIG_SECTIONS,
    v.ObjectSchema<v.ObjectEntries, undefined>,
  ][]) {
    lines.push('', `# ${ABOUT[section]}`, `[${section}]`);
    for (const [key, entry] of Object.entries(schema.entries)) {
      const example = REQUIRED[section]?.[key];
      if (example !== undefined) {
        lines.push(assignment(key, example));
        continue;
      }
      const fallback: unknown = v.getDefault(entry as v.GenericSchema);
      lines.push(fallback === undefined ? `# ${key} = (no default)` : `# ${assignment(key, shown(key, fallback))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
