/**
 * What btrfs-to-s3 stores in place of the plain send stream (docs/format.md): each
 * chunk's slice compressed as a zstd frame sequence, then encrypted as one age file
 * (age-encryption.org/v1, X25519 recipients), so `age -d -i KEY | zstd -d` decodes
 * any chunk; the decoding stages of a restore; the age-sealed private section of a
 * manifest; and age identity files.
 */
export { AgeError } from './age/errors';
export { generateKey, identityFileText, identitiesFromText, readIdentityFile, unusableRecipient, writeIdentityFile } from './age/keys';
export type { GeneratedKey, Identities } from './age/keys';
export { encodeChunks } from './encode-chunks';
export type { ChunkEncoding, EncodedChunkEnd, EncodedItem, EncodedStreamEnd } from './encode-chunks';
export { decodeStages, DecodeMismatchError } from './decode-chunks';
export type { ChunkDecoding, EncodedChunk } from './decode-chunks';
export { openText, sealText } from './sealed';
