// The config a scale run uploads with: the README's minimal config pointed at the sink,
// so every setting not named here (concurrency, checksum mode, SSE, retry policy) is the
// default a user gets.
import { type Config, parseConfig } from '@org/btrfs-s3-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SINK_BUCKET = 'bench-scale';

/** Placeholder credentials for the SDK's chain: the sink accepts any signature. */
export const SINK_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'sink', AWS_SECRET_ACCESS_KEY: 'sink-accepts-any-signature' } as const;

export interface SinkLayout {
  readonly chunkSizeBytes: number;
  /** Absent: the config's default. */
  readonly partSizeBytes?: number;
  readonly concurrency?: number;
}

export function sinkConfig(endpoint: string, layout: SinkLayout): Config {
  const lines = [
    '[snapshots]',
    'base_dir = "/srv/.snapshots"',
    '[subvolumes]',
    'paths = ["/srv/data"]',
    '[s3]',
    `bucket = "${SINK_BUCKET}"`,
    'region = "us-east-1"',
    'prefix = "scale"',
    `endpoint = "${endpoint}"`,
    'path_style = true',
    `chunk_size_bytes = ${layout.chunkSizeBytes}`,
    ...(layout.partSizeBytes === undefined ? [] : [`part_size_bytes = ${layout.partSizeBytes}`]),
    ...(layout.concurrency === undefined ? [] : [`concurrency = ${layout.concurrency}`]),
  ];
  return parseConfig(lines.join('\n'), { source: 'bench:scale' });
}

export function chunkKeyFor(index: number): string {
  return `scale/chunks/part-${String(index).padStart(5, '0')}.bin`;
}

/** The executable the uploader's Node flags are taken from, relative to the repository root. */
export const CLI_EXECUTABLE = 'apps/cli/bin/run.js';

/** The Node flags on a `#!/usr/bin/env -S node FLAGS` line (none on a plain `#!/usr/bin/env node`). */
export function shebangNodeFlags(text: string): string[] {
  const line = text.split('\n', 1)[0] ?? '';
  const match = /^#!\S*env(?:\s+-S)?\s+node(?:\s+(.*))?$/.exec(line.trim());
  if (match === null) throw new Error(`not a node shebang: "${line}"`);
  return (match[1] ?? '').split(/\s+/).filter((flag) => flag !== '');
}

/**
 * The Node flags btrfs-to-s3 runs with (the checkout's executable, and the release's
 * launcher, pass the same): the memory bound relies on them, so the uploader under test
 * gets them too.
 */
export function cliNodeFlags(root = join(__dirname, '..', '..')): string[] {
  return shebangNodeFlags(readFileSync(join(root, CLI_EXECUTABLE), 'utf8'));
}
