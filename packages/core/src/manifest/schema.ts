import * as v from 'valibot';
import { STORAGE_CLASSES } from '../config/schema';
import { WriterSchema } from '../writer/writer';

/**
 * The on-S3 format, version 1 (documented in docs/format.md; JSON Schema in
 * docs/schema/). Readers refuse versions they do not know. Keys are relative to
 * the bucket.
 */
export const MANIFEST_VERSION = 1;
export const POINTER_VERSION = 1;

const sha256Hex = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256'));
const isoDate = v.pipe(v.string(), v.isoTimestamp('must be an ISO-8601 timestamp'));
const byteCount = v.pipe(v.number(), v.integer(), v.minValue(0));
const objectKey = v.pipe(v.string(), v.nonEmpty());

export const ManifestPartSchema = v.strictObject({
  /** 1-based multipart part number within the chunk object. */
  number: v.pipe(v.number(), v.integer(), v.minValue(1)),
  size: byteCount,
  /** SHA-256 of the part's bytes, so a restore can verify each ranged GET before using it. */
  sha256: sha256Hex,
});

export const ManifestChunkSchema = v.strictObject({
  key: objectKey,
  size: byteCount,
  sha256: sha256Hex,
  etag: v.string(),
  /** Parts in order; their sizes sum to `size`. */
  parts: v.array(ManifestPartSchema),
});

export const ManifestSchema = v.strictObject({
  version: v.literal(MANIFEST_VERSION),
  subvolume: v.pipe(v.string(), v.nonEmpty()),
  kind: v.picklist(['full', 'inc']),
  created_at: isoDate,
  snapshot: v.strictObject({
    name: v.string(),
    path: v.string(),
    /** The snapshot's Btrfs UUID; a restored snapshot's Received UUID must equal it. */
    uuid: v.string(),
    parent_uuid: v.nullable(v.string()),
  }),
  /** The manifest this incremental was sent against (`btrfs send -p`); null for a full. */
  parent_manifest: v.nullable(objectKey),
  /** The parent snapshot's UUID, which the receiving side must already hold; null for a full. */
  parent_snapshot_uuid: v.nullable(v.string()),
  chunks: v.array(ManifestChunkSchema),
  total_bytes: byteCount,
  chunk_size: v.pipe(v.number(), v.integer(), v.minValue(1)),
  part_size: v.pipe(v.number(), v.integer(), v.minValue(1)),
  s3: v.strictObject({
    bucket: v.string(),
    region: v.string(),
    storage_class: v.picklist(STORAGE_CLASSES),
  }),
  restore: v.strictObject({
    stream_sha256: sha256Hex,
    chunk_hash_algo: v.literal('sha256'),
  }),
  tool: v.strictObject({ name: v.literal('btrfs-to-s3'), version: v.string() }),
  /** The host that wrote it; absent in manifests of versions before it was recorded. */
  writer: v.optional(WriterSchema),
});

/** `<prefix>/subvol/<name>/current.json`: the one object a restore starts from. */
export const PointerSchema = v.strictObject({
  version: v.literal(POINTER_VERSION),
  manifest_key: objectKey,
  kind: v.picklist(['full', 'inc']),
  created_at: isoDate,
  /** The host that wrote it: a backup from another host refuses to replace it without --take-over. */
  writer: v.optional(WriterSchema),
});

export type ManifestPart = v.InferOutput<typeof ManifestPartSchema>;
export type ManifestChunk = v.InferOutput<typeof ManifestChunkSchema>;
export type Manifest = v.InferOutput<typeof ManifestSchema>;
export type Pointer = v.InferOutput<typeof PointerSchema>;
