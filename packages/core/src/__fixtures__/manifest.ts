import { backupPrefix, chunkKey, manifestKey } from '../manifest/keys';
import type { Manifest } from '../manifest/schema';

/** A valid manifest of an incremental with two chunks, for tests. */
export const H = (c: string) => c.repeat(64);
export const backup = backupPrefix('host1', 'data', 'inc', '20261125T020000Z');

export const manifest: Manifest = {
  version: 1,
  subvolume: 'data',
  kind: 'inc',
  created_at: '2026-11-25T02:00:00.000Z',
  snapshot: { name: 'data__20261125T020000Z__inc', path: '/srv/.snapshots/data__20261125T020000Z__inc', uuid: 'u-2', parent_uuid: 'u-src' },
  parent_manifest: manifestKey(backupPrefix('host1', 'data', 'full', '20260601T020000Z')),
  parent_snapshot_uuid: 'u-1',
  chunks: [
    {
      key: chunkKey(backup, 0),
      size: 10,
      sha256: H('a'),
      etag: '"e1-2"',
      parts: [
        { number: 1, size: 6, sha256: H('b') },
        { number: 2, size: 4, sha256: H('c') },
      ],
    },
    { key: chunkKey(backup, 1), size: 3, sha256: H('d'), etag: '"e2-1"', parts: [{ number: 1, size: 3, sha256: H('d') }] },
  ],
  total_bytes: 13,
  chunk_size: 10,
  part_size: 6,
  s3: { bucket: 'b', region: 'r', storage_class: 'DEEP_ARCHIVE' },
  restore: { stream_sha256: H('e'), chunk_hash_algo: 'sha256' },
  tool: { name: 'btrfs-to-s3', version: '0.1.0' },
};
