// A TCP relay in front of the gateway, in the harness process: it counts the bytes clients
// send (the upload rate cap is measured on them) and can hold every byte for a while in each
// direction (a path's latency: netem is not available here). It ends TCP on both sides, so
// the client's congestion control sees the short hop to the relay, not the delay.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface RelayOptions {
  /** The gateway, http://host:port. */
  readonly upstream: string;
  /** The address to listen on, on a free port. */
  readonly host: string;
  /** Added to each byte in each direction: half of the round trip it adds. */
  readonly delayMs?: number;
  /** Bytes held per direction of a connection before the relay stops reading from the sender. */
  readonly maxHeldBytes?: number;
}

/** Cumulative bytes the relay had read from clients at a moment (ms from the relay's start). */
export interface ByteSample {
  readonly ms: number;
  readonly bytes: number;
}

/**
 * Holds each chunk read from `from` for `delayMs`, then writes it to `to` in order. Reading
 * pauses while more than `maxHeldBytes` wait (or `to` is full), so memory stays bounded.
 */
export class DelayLine {
  private readonly queue: { due: number; chunk: Buffer }[] = [];
  private held = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private waitingForDrain = false;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly delayMs: number,
    private readonly maxHeldBytes: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    from.on('data', (chunk: Buffer) => this.push(chunk));
    from.once('end', () => {
      this.ended = true;
      this.flush();
    });
    to.on('drain', () => {
      this.waitingForDrain = false;
      this.flush();
    });
  }

  private push(chunk: Buffer): void {
    this.queue.push({ due: this.now() + this.delayMs, chunk });
    this.held += chunk.length;
    if (this.held > this.maxHeldBytes) this.from.pause();
    this.schedule();
  }

  private schedule(): void {
    const head = this.queue[0];
    if (head === undefined || this.timer !== undefined || this.waitingForDrain) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.flush();
      },
      Math.max(0, head.due - this.now()),
    );
  }

  private flush(): void {
    if (this.waitingForDrain || this.to.destroyed) return;
    const now = this.now();
    for (let head = this.queue[0]; head !== undefined && head.due <= now; head = this.queue[0]) {
      this.queue.shift();
      this.held -= head.chunk.length;
      if (!this.to.write(head.chunk)) {
        this.waitingForDrain = true;
        break;
      }
    }
    if (this.held <= this.maxHeldBytes / 2 && this.from.isPaused() && !this.waitingForDrain) this.from.resume();
    if (this.queue.length === 0 && this.ended) this.to.end();
    else this.schedule();
  }
}

export class TcpRelay {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly started = performance.now();
  private received = 0;
  private port = 0;

  constructor(private readonly options: RelayOptions) {
    const target = new URL(options.upstream);
    const delayMs = options.delayMs ?? 0;
    const maxHeld = options.maxHeldBytes ?? 8 * 2 ** 20;
    this.server = createServer((client) => {
      const gateway = connect(Number(target.port || 80), target.hostname);
      for (const socket of [client, gateway]) {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
      }
      client.on('data', (chunk: Buffer) => {
        this.received += chunk.length;
      });
      client.on('error', () => gateway.destroy());
      gateway.on('error', () => client.destroy());
      client.once('close', () => gateway.destroy());
      gateway.once('close', () => client.destroy());
      if (delayMs > 0) {
        new DelayLine(client, gateway, delayMs, maxHeld);
        new DelayLine(gateway, client, delayMs, maxHeld);
      } else {
        client.pipe(gateway);
        gateway.pipe(client);
      }
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.options.host, resolve);
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('relay: no TCP address');
    this.port = address.port;
  }

  /** Where clients send their requests instead of the gateway. */
  get endpoint(): string {
    return `http://${this.options.host}:${this.port}`;
  }

  /** Bytes read from clients so far (request lines, headers and bodies). */
  get uploadedBytes(): number {
    return this.received;
  }

  /** The count now, timed from the relay's start. */
  sample(): ByteSample {
    return { ms: performance.now() - this.started, bytes: this.received };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
