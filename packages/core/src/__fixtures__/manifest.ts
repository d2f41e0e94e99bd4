import { backupPrefix, chunkKey, manifestKey } from '../manifest/keys';
import type { ManifestDocument, ManifestV1 } from '../manifest/schema';

/** A valid manifest of an incremental with two chunks, for tests. */
export const H = (c: string) => c.repeat(64);
export const backup = backupPrefix('host1', 'data', 'inc', '20261125T020000Z');

/** As written today: version 2, nothing compressed or encrypted. */
export const manifest: ManifestDocument = {
  version: 2,
  subvolume: 'data',
  kind: 'inc',
  created_at: '2026-11-25T02:00:00.000Z',
  snapshot: { name: 'data__20261125T020000Z__inc', uuid: 'u-2', parent_uuid: 'u-src' },
  parent_manifest: manifestKey(backupPrefix('host1', 'data', 'full', '20260601T020000Z')),
  parent_snapshot_uuid: 'u-1',
  chunks: [
    {
      key: chunkKey(backup, 0),
      size: 10,
      plain_size: 10,
      sha256: H('a'),
      etag: '"e1-2"',
      parts: [
        { number: 1, size: 6, sha256: H('b') },
        { number: 2, size: 4, sha256: H('c') },
      ],
    },
    { key: chunkKey(backup, 1), size: 3, plain_size: 3, sha256: H('d'), etag: '"e2-1"', parts: [{ number: 1, size: 3, sha256: H('d') }] },
  ],
  total_bytes: 13,
  stored_bytes: 13,
  chunk_size: 10,
  part_size: 6,
  s3: { bucket: 'b', region: 'r', storage_class: 'DEEP_ARCHIVE' },
  encoding: { compression: 'none', encryption: 'none', recipients: [] },
  private: {
    clear: { snapshot_path: '/srv/.snapshots/data__20261125T020000Z__inc', stream_sha256: H('e'), chunk_sha256: [H('a'), H('d')] },
  },
  tool: { name: 'btrfs-to-s3', version: '0.1.0' },
};

/** The same backup as an earlier release wrote it: version 1. */
export const manifestV1: ManifestV1 = {
  version: 1,
  subvolume: 'data',
  kind: 'inc',
  created_at: manifest.created_at,
  snapshot: { ...manifest.snapshot, path: '/srv/.snapshots/data__20261125T020000Z__inc' },
  parent_manifest: manifest.parent_manifest,
  parent_snapshot_uuid: 'u-1',
  chunks: manifest.chunks.map(({ plain_size: _, ...chunk }) => chunk),
  total_bytes: 13,
  chunk_size: 10,
  part_size: 6,
  s3: manifest.s3,
  restore: { stream_sha256: H('e'), chunk_hash_algo: 'sha256' },
  tool: manifest.tool,
};
