import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AgeError } from './errors';

/** age's STREAM: 64 KiB plaintext chunks, each sealed with ChaCha20-Poly1305 and a 16-byte tag. */
const CHUNK = 64 * 1024;
const TAG = 16;
const SEALED_CHUNK = CHUNK + TAG;

/** Nonce of the n-th STREAM chunk: an 11-byte big-endian counter and a last-chunk flag. */
function nonce(counter: number, last: boolean): Buffer {
  const bytes = Buffer.alloc(12);
  bytes.writeUIntBE(counter, 5, 6); // 2^48 chunks of 64 KiB: far beyond any object
  bytes[11] = last ? 1 : 0;
  return bytes;
}

/** Takes `length` bytes off the front of `pending`, without copying whole buffers. */
function take(pending: Buffer[], length: number): Buffer[] {
  const out: Buffer[] = [];
  let left = length;
  while (left > 0) {
    const head = pending[0];
    if (head === undefined) throw new Error('take past the end of the pending bytes');
    if (head.length <= left) {
      out.push(head);
      pending.shift();
      left -= head.length;
    } else {
      out.push(head.subarray(0, left));
      pending[0] = head.subarray(left);
      left = 0;
    }
  }
  return out;
}

/**
 * A byte stream cut into STREAM blocks of `blockBytes` with their nonces. A block is
 * handed on only once a byte after it arrives: the last block carries a flag, so it
 * waits for finish().
 */
abstract class BlockStream {
  private readonly pending: Buffer[] = [];
  private available = 0;
  private counter = 0;

  constructor(
    protected readonly key: Buffer,
    private readonly blockBytes: number,
  ) {}

  push(data: Buffer): Buffer[] {
    this.pending.push(data);
    this.available += data.length;
    const out: Buffer[] = [];
    while (this.available > this.blockBytes) out.push(...this.block(this.blockBytes, false));
    return out;
  }

  /** Bytes held back for the last block. */
  protected get held(): number {
    return this.available;
  }

  /** Blocks handed on so far. */
  protected get blocks(): number {
    return this.counter;
  }

  /** The next `length` bytes, as they arrived (no copy). */
  protected take(length: number): Buffer[] {
    this.available -= length;
    return take(this.pending, length);
  }

  /** The next block's nonce. */
  protected nextNonce(last: boolean): Buffer {
    const value = nonce(this.counter, last);
    this.counter += 1;
    return value;
  }

  protected abstract block(length: number, last: boolean): Buffer[];
}

/**
 * The payload of one age file, as age-encryption.org/v1 specifies (STREAM over
 * ChaCha20-Poly1305 with 64 KiB chunks), on node:crypto. `finish` seals the last chunk
 * (possibly short, and empty only for an empty payload).
 */
export class AgePayloadEncryptor extends BlockStream {
  constructor(key: Buffer) {
    super(key, CHUNK);
  }

  finish(): Buffer[] {
    return this.block(this.held, true);
  }

  protected block(length: number, last: boolean): Buffer[] {
    const cipher = createCipheriv('chacha20-poly1305', this.key, this.nextNonce(last), { authTagLength: TAG });
    const out = this.take(length).map((piece) => cipher.update(piece));
    out.push(cipher.final(), cipher.getAuthTag());
    return out;
  }
}

/**
 * Opens an age payload sealed by AgePayloadEncryptor or any age implementation. No
 * byte of a chunk is returned before its tag checked out; a damaged, reordered,
 * truncated or extended payload throws AgeError.
 */
export class AgePayloadDecryptor extends BlockStream {
  constructor(key: Buffer) {
    super(key, SEALED_CHUNK);
  }

  finish(): Buffer[] {
    if (this.held < TAG) throw new AgeError('age payload truncated');
    // An empty last chunk is allowed only as the whole of an empty payload.
    if (this.held === TAG && this.blocks > 0) throw new AgeError('age payload ends in an empty chunk');
    return this.block(this.held, true);
  }

  protected block(length: number, last: boolean): Buffer[] {
    const index = this.blocks;
    const decipher = createDecipheriv('chacha20-poly1305', this.key, this.nextNonce(last), { authTagLength: TAG });
    // The block as it arrived, without joining it: its body, then its 16-byte tag.
    const body = this.take(length - TAG);
    const tag = this.take(TAG);
    decipher.setAuthTag(tag.length === 1 ? (tag[0] as Buffer) : Buffer.concat(tag));
    // Held back until final() has checked the tag: no byte of a forged block goes on.
    const plain = body.map((piece) => decipher.update(piece));
    try {
      decipher.final();
    } catch {
      throw new AgeError(`age payload chunk ${index} failed authentication (damaged, or not the end of the file)`);
    }
    return plain;
  }
}
