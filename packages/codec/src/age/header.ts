import { Decrypter, Encrypter, type Recipient } from 'age-encryption';
import { hkdfSync } from 'node:crypto';
import { AgeError } from './errors';

/** age's payload nonce: 16 random bytes after the header, the salt of the payload key. */
const NONCE_BYTES = 16;
/** The STREAM tag of an empty payload: what `encrypt(empty)` adds after the nonce. */
const EMPTY_PAYLOAD_BYTES = 16;
/** A header larger than this is not one we wrote (an X25519 stanza is about 100 bytes). */
const MAX_HEADER_BYTES = 64 * 1024;
const HEADER_END = Buffer.from('\n--- ');

/** The start of one age file: its header and nonce, to write first, and the key of its payload. */
export interface AgeFileStart {
  readonly prefix: Buffer;
  readonly payloadKey: Buffer;
}

/**
 * Starts a new age file (age-encryption.org/v1) to `recipients`: the header, with the
 * file key wrapped for each recipient and its MAC, comes from the age-encryption
 * library, which also draws the file key and the nonce. Only the payload is ours
 * (AgePayloadEncryptor, on node:crypto's ChaCha20-Poly1305, many times faster than
 * the library's pure-JS cipher): the library encrypts an empty payload, and a
 * recipient of our own that wraps nothing captures the file key to derive the
 * payload key from, as age does (HKDF-SHA256, salt = nonce, info "payload").
 */
export async function startAgeFile(recipients: readonly string[]): Promise<AgeFileStart> {
  if (recipients.length === 0) throw new AgeError('no age recipients to encrypt to');
  let fileKey: Uint8Array | undefined;
  const capture: Recipient = {
    wrapFileKey: (key) => {
      fileKey = key;
      return [];
    },
  };
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  encrypter.addRecipient(capture);
  const empty = Buffer.from(await encrypter.encrypt(new Uint8Array(0)));
  if (fileKey === undefined) throw new AgeError('the age library did not wrap a file key');
  const prefix = empty.subarray(0, empty.length - EMPTY_PAYLOAD_BYTES);
  const nonce = prefix.subarray(prefix.length - NONCE_BYTES);
  return { prefix: Buffer.from(prefix), payloadKey: payloadKey(fileKey, nonce) };
}

/** Where a header ends in `bytes` (the index after its MAC line), or undefined if it has not ended yet. */
export function headerLength(bytes: Buffer): number | undefined {
  const macLine = bytes.indexOf(HEADER_END);
  const end = macLine < 0 ? -1 : bytes.indexOf(0x0a, macLine + 1);
  if (end < 0) {
    if (bytes.length > MAX_HEADER_BYTES) throw new AgeError(`no age header end in the first ${MAX_HEADER_BYTES} bytes: not an age file`);
    return undefined;
  }
  return end + 1;
}

/** Bytes an age file needs before its payload: the header and the nonce. */
export function prefixLength(bytes: Buffer): number | undefined {
  const header = headerLength(bytes);
  return header === undefined || bytes.length < header + NONCE_BYTES ? undefined : header + NONCE_BYTES;
}

/**
 * The payload key of an age file whose header and nonce are `prefix` (see prefixLength).
 * The library unwraps the file key with `identities` and checks the header's MAC.
 * Throws AgeError naming the file's recipients' stanza types when no identity matches.
 */
export async function openAgeFile(prefix: Buffer, identities: Decrypter): Promise<Buffer> {
  const header = headerLength(prefix);
  if (header === undefined || prefix.length !== header + NONCE_BYTES) throw new AgeError('truncated age header');
  let fileKey: Uint8Array;
  try {
    fileKey = await identities.decryptHeader(prefix.subarray(0, header));
  } catch (error) {
    throw new AgeError(error instanceof Error ? error.message : String(error));
  }
  return payloadKey(fileKey, prefix.subarray(header));
}

function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}
