import * as v from 'valibot';
import { AGE_RECIPIENT, STORAGE_CLASSES } from '../config/schema';
import { WriterSchema } from '../writer/writer';

/**
 * The on-S3 format (docs/format.md; JSON Schema in docs/schema/). Backups write
 * manifest version 2; readers read 1 and 2 into one shape (Manifest) and refuse
 * versions they do not know. Keys are relative to the bucket.
 */
export const MANIFEST_VERSION = 2;
export const READABLE_MANIFEST_VERSIONS = [1, 2] as const;
export const POINTER_VERSION = 1;

const sha256Hex = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256'));
const isoDate = v.pipe(v.string(), v.isoTimestamp('must be an ISO-8601 timestamp'));
const byteCount = v.pipe(v.number(), v.integer(), v.minValue(0));
const objectKey = v.pipe(v.string(), v.nonEmpty());

export const ManifestPartSchema = v.strictObject({
  /** 1-based multipart part number within the chunk object. */
  number: v.pipe(v.number(), v.integer(), v.minValue(1)),
  size: byteCount,
  /** SHA-256 of the part's bytes as stored, so a ranged GET is verified before use, without any key. */
  sha256: sha256Hex,
});

const chunkEntries = {
  key: objectKey,
  /** Bytes stored (after compression and encryption). */
  size: byteCount,
  /** SHA-256 of the object's bytes as stored. */
  sha256: sha256Hex,
  etag: v.string(),
  /** Parts in order; their sizes sum to `size`. */
  parts: v.array(ManifestPartSchema),
};

const manifestHead = {
  subvolume: v.pipe(v.string(), v.nonEmpty()),
  kind: v.picklist(['full', 'inc']),
  created_at: isoDate,
};
const manifestLinks = {
  /** The manifest this incremental was sent against (`btrfs send -p`); null for a full. */
  parent_manifest: v.nullable(objectKey),
  /** The parent snapshot's UUID, which the receiving side must already hold; null for a full. */
  parent_snapshot_uuid: v.nullable(v.string()),
};
const manifestTail = {
  chunk_size: v.pipe(v.number(), v.integer(), v.minValue(1)),
  part_size: v.pipe(v.number(), v.integer(), v.minValue(1)),
  s3: v.strictObject({
    bucket: v.string(),
    region: v.string(),
    storage_class: v.picklist(STORAGE_CLASSES),
  }),
};
const tool = v.strictObject({ name: v.literal('btrfs-to-s3'), version: v.string() });

/** Version 1 (btrfs-to-s3 0.1.0): chunks are the plain send stream. Read, never written. */
export const ManifestV1Schema = v.strictObject({
  version: v.literal(1),
  ...manifestHead,
  snapshot: v.strictObject({
    name: v.string(),
    path: v.string(),
    /** The snapshot's Btrfs UUID; a restored snapshot's Received UUID must equal it. */
    uuid: v.string(),
    parent_uuid: v.nullable(v.string()),
  }),
  ...manifestLinks,
  chunks: v.array(v.strictObject(chunkEntries)),
  total_bytes: byteCount,
  ...manifestTail,
  restore: v.strictObject({
    stream_sha256: sha256Hex,
    chunk_hash_algo: v.literal('sha256'),
  }),
  tool,
  /** The host that wrote it; absent in manifests of versions before it was recorded. */
  writer: v.optional(WriterSchema),
});

export const ManifestChunkSchema = v.strictObject({
  ...chunkEntries,
  /** Bytes of the send stream this chunk holds (its slice, before compression and encryption). */
  plain_size: byteCount,
});

/** What only the identity's holder may read of an encrypted backup: the snapshot's path and the plaintext hashes. */
export const ManifestPrivateSchema = v.strictObject({
  snapshot_path: v.string(),
  /** SHA-256 of the whole send stream. */
  stream_sha256: sha256Hex,
  /** SHA-256 of each chunk's slice of the send stream, in chunk order. */
  chunk_sha256: v.array(sha256Hex),
});

/** Version 2: chunks may be compressed (zstd) and encrypted (age); the private section is sealed when they are. */
export const ManifestSchema = v.strictObject({
  version: v.literal(MANIFEST_VERSION),
  ...manifestHead,
  snapshot: v.strictObject({
    name: v.string(),
    uuid: v.string(),
    parent_uuid: v.nullable(v.string()),
  }),
  ...manifestLinks,
  chunks: v.array(ManifestChunkSchema),
  /** Bytes of the send stream: chunks' `plain_size` sum to it. */
  total_bytes: byteCount,
  /** Bytes stored: chunks' `size` sum to it. */
  stored_bytes: byteCount,
  ...manifestTail,
  encoding: v.strictObject({
    /** Each chunk object's plaintext is a zstd frame sequence of its slice, or the slice itself. */
    compression: v.picklist(['none', 'zstd']),
    /** Each chunk object is one age file (age-encryption.org/v1), or its plaintext. */
    encryption: v.picklist(['none', 'age']),
    /** Who can decrypt: the age recipients (public keys) it was encrypted to. Empty when unencrypted. */
    recipients: v.array(v.pipe(v.string(), v.regex(AGE_RECIPIENT, 'must be an age X25519 recipient (age1...)'))),
  }),
  /** The private section: `clear` when unencrypted, else `age`, an ASCII-armored age file of its JSON. */
  private: v.union([v.strictObject({ clear: ManifestPrivateSchema }), v.strictObject({ age: v.pipe(v.string(), v.nonEmpty()) })]),
  tool,
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
/** A chunk object as stored: what a download or a check of the bucket verifies, without any key. */
export type StoredChunk = Omit<ManifestChunk, 'plain_size'>;
export type ManifestPrivate = v.InferOutput<typeof ManifestPrivateSchema>;
/** A manifest as written: version 2. */
export type ManifestDocument = v.InferOutput<typeof ManifestSchema>;
export type ManifestV1 = v.InferOutput<typeof ManifestV1Schema>;
/** A manifest as read, of either version, in version 2's shape; `version` says which it was. */
export type Manifest = Omit<ManifestDocument, 'version'> & { readonly version: (typeof READABLE_MANIFEST_VERSIONS)[number] };
export type Pointer = v.InferOutput<typeof PointerSchema>;
