import type { S3Client } from '@aws-sdk/client-s3';
import {
  type Config,
  type Manifest,
  parseConfig,
  parseManifest,
  parsePointer,
  pointerKey,
  type State,
  type Writer,
  StateSchema,
} from '@org/btrfs-s3-core';
import { FakeS3Bucket } from '@org/btrfs-s3-store/testing';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import type { BackupDeps } from '../context';
import type { Failpoint } from '../failpoints';
import { FakeBtrfsWorld } from './fake-btrfs';

/** When the first test run happens; later runs move the clock forward from here. */
export const T0 = new Date('2026-12-01T02:00:00Z');
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * One backup host for a test: a temp dir for state, lock, metrics and snapshots, a
 * FakeBtrfsWorld with the configured subvolumes, a FakeS3Bucket, and a clock the
 * test moves. `deps()` is what runBackup takes to use them all.
 */
export class BackupHost {
  readonly dir = mkdtempSync(join(tmpdir(), 'backup-test-'));
  readonly config: Config;
  readonly world: FakeBtrfsWorld;
  readonly bucket = new FakeS3Bucket();
  readonly client: S3Client = this.bucket.asS3Client();
  now = T0;
  /** Called at each crash point; replace to look at the world there. */
  failpoint: (name: Failpoint) => void = () => undefined;

  /**
   * `s3`, `encryption`: extra TOML lines of those sections. Chunks are 16 bytes, so every
   * backup has several, and `s3.prune_after_backup` is off unless `pruneAfterBackup`.
   */
  constructor(options: { subvolumes?: readonly string[]; pruneAfterBackup?: boolean; s3?: string; encryption?: string } = {}) {
    const paths = (options.subvolumes ?? ['data']).map((name) => `/srv/${name}`);
    this.config = parseConfig(`
[global]
state_path = "${this.dir}/state.json"
lock_path = "${this.dir}/lock"
metrics_path = "${this.dir}/metrics.json"
prometheus_textfile = "${this.dir}/textfile/btrfs-to-s3.prom"
[snapshots]
base_dir = "${this.dir}/snapshots"
[subvolumes]
paths = ${JSON.stringify(paths)}
[s3]
bucket = "backups"
region = "eu-west-1"
prefix = "host1"
chunk_size_bytes = 16
storage_class_chunks = "STANDARD"
prune_after_backup = ${String(options.pruneAfterBackup ?? false)}
${options.s3 ?? ''}
[encryption]
${options.encryption ?? ''}
`);
    this.world = new FakeBtrfsWorld(paths);
  }

  /** This host as a writer; tests play a second host by changing it. */
  writer: Writer = { id: 'a'.repeat(32), host: 'host-a' };

  deps(): BackupDeps {
    return {
      btrfs: this.world.btrfs,
      client: this.client,
      now: () => this.now,
      failpoint: (name) => this.failpoint(name),
      writer: this.writer,
    };
  }

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  /** The state file, or undefined before one is written; synchronous, so a failpoint sees it as it is there. */
  state(): State | undefined {
    const path = this.config.global.state_path;
    return existsSync(path) ? v.parse(StateSchema, JSON.parse(readFileSync(path, 'utf8'))) : undefined;
  }

  /** The backup's Prometheus textfile as a map of sample ("name{labels}") to value; synchronous, for failpoints. */
  textfile(): Map<string, number> {
    const path = this.config.global.prometheus_textfile ?? '';
    if (!existsSync(path)) return new Map();
    const samples = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    return new Map(samples.map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]));
  }

  /** The bytes of an object in the bucket as text, or undefined. */
  text(key: string): string | undefined {
    return this.bucket.objects.get(key)?.bytes.toString('utf8');
  }

  pointerKey(subvolume: string): string {
    return pointerKey(this.config.s3.prefix, subvolume);
  }

  /** The manifest key current.json names, or undefined. */
  current(subvolume: string): string | undefined {
    const key = this.pointerKey(subvolume);
    const text = this.text(key);
    return text === undefined ? undefined : parsePointer(key, text).manifest_key;
  }

  /** The manifest at `key`, parsed and checked. */
  manifest(key: string): Manifest {
    const text = this.text(key);
    if (text === undefined) throw new Error(`no manifest ${key} in the fake bucket`);
    return parseManifest(key, text);
  }

  keys(): string[] {
    return [...this.bucket.objects.keys()].sort();
  }

  cleanup(): void {
    this.client.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
