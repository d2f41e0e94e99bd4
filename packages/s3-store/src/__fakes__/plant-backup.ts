import {
  backupPrefix,
  chunkKey,
  compactTimestamp,
  type Manifest,
  type ManifestDocument,
  manifestKey,
  pointerKey,
  serializeManifest,
  serializePointer,
} from '@org/btrfs-s3-core';
import { createHash } from 'node:crypto';
import type { FakeS3Bucket } from './fake-bucket';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A backup planted in a fake bucket: its key prefix, manifest key and manifest. */
export interface PlantedBackup {
  readonly dir: string;
  readonly key: string;
  readonly manifest: Manifest;
}

export interface PlantOptions {
  /** Default `data`. */
  readonly subvolume?: string;
  /** Default `host1`. */
  readonly prefix?: string;
  readonly kind: 'full' | 'inc';
  readonly at: Date;
  readonly parent?: PlantedBackup;
  /** Each chunk's bytes, as text: one object per chunk, one part per chunk. */
  readonly chunks: readonly string[];
  /** The chunks' storage class, as the manifest records it and the objects report it; default STANDARD. */
  readonly storageClass?: Manifest['s3']['storage_class'];
  /** The chunks' thaw state (archived classes); default none. */
  readonly restore?: 'none' | 'ongoing' | 'restored';
}

/** Puts a published backup into the bucket as a run would leave it: one object per chunk, then its manifest. */
export function plantBackup(bucket: FakeS3Bucket, options: PlantOptions): PlantedBackup {
  const subvolume = options.subvolume ?? 'data';
  const storageClass = options.storageClass ?? 'STANDARD';
  const dir = backupPrefix(options.prefix ?? 'host1', subvolume, options.kind, compactTimestamp(options.at));
  const bodies = options.chunks.map((text) => Buffer.from(text));
  const chunks = bodies.map((bytes, index) => {
    bucket.put(chunkKey(dir, index), bytes, { lastModified: options.at, storageClass, restore: options.restore ?? 'none' });
    return {
      key: chunkKey(dir, index),
      size: bytes.length,
      sha256: sha256(bytes),
      plain_size: bytes.length,
      etag: `"chunk-${index}"`,
      parts: [{ number: 1, size: bytes.length, sha256: sha256(bytes) }],
    };
  });
  const name = `${subvolume}__${compactTimestamp(options.at)}__${options.kind}`;
  const manifest: ManifestDocument = {
    version: 2,
    subvolume,
    kind: options.kind,
    created_at: options.at.toISOString(),
    snapshot: { name, uuid: `uuid-${name}`, parent_uuid: 'uuid-source' },
    parent_manifest: options.parent?.key ?? null,
    parent_snapshot_uuid: options.parent?.manifest.snapshot.uuid ?? null,
    chunks,
    total_bytes: bodies.reduce((sum, bytes) => sum + bytes.length, 0),
    stored_bytes: bodies.reduce((sum, bytes) => sum + bytes.length, 0),
    chunk_size: 16,
    part_size: 5 * 1024 * 1024,
    s3: { bucket: 'backups', region: 'eu-west-1', storage_class: storageClass },
    encoding: { compression: 'none', encryption: 'none', recipients: [] },
    private: {
      clear: {
        snapshot_path: `/srv/.snapshots/${name}`,
        stream_sha256: sha256(Buffer.concat(bodies)),
        chunk_sha256: chunks.map((chunk) => chunk.sha256),
      },
    },
    tool: { name: 'btrfs-to-s3', version: '0.1.0' },
  };
  bucket.put(manifestKey(dir), Buffer.from(serializeManifest(manifest)), { lastModified: options.at });
  return { dir, key: manifestKey(dir), manifest };
}

/** Points the subvolume's current.json at `backup`. */
export function plantPointer(bucket: FakeS3Bucket, backup: PlantedBackup, prefix = 'host1'): void {
  const { subvolume, kind, created_at } = backup.manifest;
  bucket.put(pointerKey(prefix, subvolume), Buffer.from(serializePointer({ version: 1, manifest_key: backup.key, kind, created_at })));
}
