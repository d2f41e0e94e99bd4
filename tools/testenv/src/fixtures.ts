import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGateway } from './gateway';

/** Fixtures shared by the CLI's integration tests and the fault suite. */

export const MiB = 1024 * 1024;

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The credentials the test gateway's user has, for the CLI under test. */
export function gatewayEnv(): Record<string, string | undefined> {
  return { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
}

/** A unique prefix per test, so tests sharing the gateway never see each other's objects. */
export function uniquePrefix(name: string): string {
  return `${name}-${process.pid}-${Date.now()}`;
}

/**
 * Writes `text` to a config file in a new temp directory and returns its path. Under
 * jest the directory is in the run's scratch directory, which the global teardown removes.
 */
export function writeConfig(text: string): string {
  const path = join(mkdtempSync(join(process.env.BTRFS_S3_TEST_SCRATCH ?? tmpdir(), 'cli-')), 'config.toml');
  writeFileSync(path, text);
  return path;
}

export interface ConfigExtras {
  readonly s3?: string;
  readonly global?: string;
  readonly snapshots?: string;
  readonly restore?: string;
  /** Lines of an `[encryption]` section (recipients, identity_file). */
  readonly encryption?: string;
  /** Overrides the gateway endpoint (e.g. a fault-injecting proxy in front of it). */
  readonly endpoint?: string;
  /** Overrides the shared test bucket (e.g. one a test made with Object Lock). */
  readonly bucket?: string;
}

/** The TOML of a config for subvolumes on `mnt` and the test gateway, with extra lines per section. */
export function backupConfigText(mnt: string, prefix: string, subvolumes: readonly string[], extra: ConfigExtras = {}): string {
  const gateway = testGateway();
  return `
[global]
state_path = "${mnt}/state/state.json"
lock_path = "${mnt}/state/run.lock"
metrics_path = "${mnt}/state/metrics.json"
${extra.global ?? ''}
[snapshots]
base_dir = "${mnt}/snapshots"
${extra.snapshots ?? ''}
[subvolumes]
paths = [${subvolumes.map((name) => `"${mnt}/${name}"`).join(', ')}]
[s3]
bucket = "${extra.bucket ?? gateway.bucket}"
region = "${gateway.region}"
prefix = "${prefix}"
endpoint = "${extra.endpoint ?? gateway.endpoint}"
path_style = true
part_size_bytes = 5242880
chunk_size_bytes = 15728640
${extra.s3 ?? ''}
[restore]
${extra.restore ?? ''}
[encryption]
${extra.encryption ?? ''}
`;
}

/** A config file for subvolumes on `mnt` and the test gateway; returns its path. */
export function backupConfig(mnt: string, prefix: string, subvolumes: readonly string[], extra: ConfigExtras = {}): string {
  return writeConfig(backupConfigText(mnt, prefix, subvolumes, extra));
}

/** Writes `files` random files of `size` bytes each under `dir`. */
export async function writeRandomFiles(dir: string, files: number, size: number, prefix = 'file'): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let index = 0; index < files; index += 1) await writeFile(join(dir, `${prefix}-${index}.bin`), randomBytes(size));
}

/** Reads the test bucket directly with the SDK, independently of the code under test. */
export class Bucket {
  readonly client: S3Client;
  readonly name: string;

  constructor() {
    const gateway = testGateway();
    this.name = gateway.bucket;
    this.client = new S3Client({
      region: gateway.region,
      endpoint: gateway.endpoint,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  }

  async keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [object.Key])));
      token = page.NextContinuationToken;
    } while (token !== undefined);
    return keys.sort();
  }

  async bytes(key: string): Promise<Buffer> {
    const response = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
    return Buffer.from((await response.Body?.transformToByteArray()) ?? []);
  }

  async json(key: string): Promise<unknown> {
    return JSON.parse((await this.bytes(key)).toString('utf8'));
  }

  async put(key: string, body: string | Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: body }));
  }

  async storageClass(key: string): Promise<string> {
    return (await this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key }))).StorageClass ?? 'STANDARD';
  }

  /** Incomplete multipart uploads under `prefix/`. */
  async uploads(prefix: string): Promise<string[]> {
    const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.name, Prefix: `${prefix}/` }));
    return (page.Uploads ?? []).flatMap((upload) => (upload.Key === undefined ? [] : [upload.Key]));
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** Polls (bounded by a deadline) until `condition` holds; for events outside this process (the gateway's or the disk's state). */
export async function until(what: string, condition: () => Promise<boolean> | boolean, deadlineMs = 60_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
