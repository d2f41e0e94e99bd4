import type { RecyclingReadable } from '@org/btrfs-s3-core';
import { type OnReadOpts, Socket } from 'node:net';
import { Readable } from 'node:stream';

/**
 * Bytes per read: what Node reads a pipe with anyway, so a consumer that never
 * recycles costs what a plain pipe does.
 */
export const PIPE_READ_BYTES = 64 * 1024;
/** Reads queued for the consumer before the pipe stops being read (backpressure). */
const QUEUED_READS = 4;

/** The libuv stream handle behind a child's stdout socket: what `net.Socket` needs to read it. */
interface StreamHandle {
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
}

/**
 * A `net.Socket` adopting `handle`: the option child_process builds a child's stdio
 * sockets with. Its type says `BoundSocket` (the public wrapper of a bound TCP socket),
 * hence the reflective call.
 */
function socketOver(handle: StreamHandle, onread: OnReadOpts): Socket {
  const socket: unknown = Reflect.construct(Socket, [{ handle, readable: true, writable: false, onread }]);
  if (!(socket instanceof Socket)) throw new TypeError('net.Socket did not construct a socket');
  return socket;
}

function isStreamHandle(value: unknown): value is StreamHandle {
  if (typeof value !== 'object' || value === null) return false;
  return ['readStart', 'readStop', 'useUserBuffer'].every((method) => typeof Reflect.get(value, method) === 'function');
}

export interface PipeReadsOptions {
  /** Called at EOF: resolves undefined to end the stream, or the error to fail it with instead. */
  readonly atEnd: () => Promise<Error | undefined>;
  /** Called when the stream is destroyed: by its consumer giving up, or by a failure. */
  readonly onDestroy: () => void;
}

/**
 * The stdout of a child spawned a moment ago, read through `net.Socket`'s `onread` into
 * a few reused buffers instead of a fresh 64 KiB Buffer per read.
 *
 * Why: Node allocates every pipe read, and at hundreds of MiB/s those buffers cost
 * more CPU than anything but SHA-256 (allocation, collection, and this VM's charge for
 * memory touched for the first time), and their wait for collection is what the CLI's
 * `--max-semi-space-size=1` holds down (docs/performance.md, "CPU per byte").
 *
 * Node offers `onread` only when a socket is constructed, and `child_process` builds
 * the child's stdout itself, so this moves its pipe handle (`_handle`) into a socket of
 * its own. Returns undefined, leaving `stdout` untouched, unless that is safe: `stdout`
 * is a socket over a stream handle and nothing was read from it yet (it must be called
 * in the same tick as the spawn). The caller then reads `stdout` as it is.
 */
export function takeOverPipe(stdout: Readable, options: PipeReadsOptions): RecyclingReadable | undefined {
  if (!(stdout instanceof Socket)) return undefined;
  const handle: unknown = Reflect.get(stdout, '_handle');
  if (!isStreamHandle(handle) || stdout.bytesRead !== 0 || stdout.readableLength !== 0 || stdout.destroyed) return undefined;
  // Detached first, so destroying Node's socket leaves the pipe open; child_process
  // still sees that socket close, which its 'close' event (and so `completion`) waits for.
  Reflect.set(stdout, '_handle', null);
  stdout.destroy();
  return new PipeReads(handle, options);
}

class PipeReads extends Readable implements RecyclingReadable {
  private readonly free: Buffer[] = [];
  /** The buffers handed to the consumer and not recycled yet; weak, as a consumer may never recycle. */
  private readonly lent = new WeakSet<ArrayBufferLike>();
  private readonly socket: Socket;

  constructor(
    handle: StreamHandle,
    private readonly options: PipeReadsOptions,
  ) {
    super({ objectMode: true, highWaterMark: QUEUED_READS });
    this.socket = socketOver(handle, {
      buffer: () => this.nextBuffer(),
      callback: (bytes, buffer) => this.received(bytes, buffer),
    });
    this.socket.on('end', () => {
      this.options.atEnd().then(
        (failure) => (failure === undefined ? this.push(null) : this.destroy(failure)),
        (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
      );
    });
    this.socket.on('error', (error) => this.destroy(error));
  }

  recycle(chunk: Buffer): void {
    if (!this.lent.delete(chunk.buffer)) return;
    this.free.push(Buffer.from(chunk.buffer, 0, PIPE_READ_BYTES));
  }

  override _read(): void {
    // After a read returned false below, the socket stopped reading the pipe; this restarts it.
    this.socket.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    this.options.onDestroy();
    callback(error);
  }

  /** Where the next read of the pipe goes. */
  private nextBuffer(): Buffer {
    // allocUnsafeSlow: one ArrayBuffer per buffer, so `recycle` can tell its own apart.
    return this.free.pop() ?? Buffer.allocUnsafeSlow(PIPE_READ_BYTES);
  }

  /** One read of the pipe, into `buffer`; false stops reading until `_read`. */
  private received(bytes: number, buffer: Uint8Array): boolean {
    const chunk = Buffer.from(buffer.buffer, buffer.byteOffset, bytes);
    this.lent.add(chunk.buffer);
    return this.push(chunk);
  }
}
