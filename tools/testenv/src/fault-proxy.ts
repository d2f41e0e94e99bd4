import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

/** One HTTP request as the proxy saw its head go by. */
export interface ProxiedRequest {
  /** Requests seen so far through this proxy, this one included (1-based). */
  readonly index: number;
  /** The connection it came on, numbered from 1 in the order they were accepted. */
  readonly connection: number;
  readonly method: string;
  /** Path and query as sent, e.g. `/bucket/key?partNumber=2&uploadId=...`. */
  readonly target: string;
  /** Its body length (Content-Length; 0 when absent). */
  readonly contentLength: number;
}

/** What goes wrong with one request. */
export interface RequestFault {
  /**
   * Once this many bytes of the request's body have been relayed (0: right after its
   * head), the gateway gets no more (it sees the request cut off and its connection
   * closed) and the client's connection is reset (RST), as when the network drops it.
   */
  readonly resetAfterBodyBytes?: number;
  /**
   * Hold the first bytes of the gateway's response this long before relaying them: the
   * time to first byte grows by it (a slow or stalled store), the rest flows at full speed.
   */
  readonly responseDelayMs?: number;
  /** Hold the gateway's response until this settles (a store that answers when the test says so). */
  readonly holdResponseUntil?: Promise<unknown>;
  /** Flip (XOR 0x01) the body byte at this offset on its way to the gateway: damage in transit, same length. */
  readonly flipBodyByteAt?: number;
}

export interface FaultProxyOptions {
  /** The gateway, e.g. `testGateway().endpoint`; plain http only. */
  readonly upstream: string;
  /** Decides each request's fault as its head arrives (default: none, a clean relay). */
  readonly faults?: (request: ProxiedRequest) => RequestFault | undefined;
}

export interface FaultProxyStats {
  readonly connections: number;
  readonly requests: number;
  /** Requests cut off by `resetAfterBodyBytes`. */
  readonly resets: number;
  /** Responses held back by `responseDelayMs` or `holdResponseUntil`. */
  readonly delayedResponses: number;
  /** Request bodies damaged by `flipBodyByteAt`. */
  readonly flippedBodies: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: the S3 client's endpoint (path-style addressing). */
  readonly endpoint: string;
  readonly port: number;
  stats(): FaultProxyStats;
  /** Stops listening and destroys every open client and gateway socket. */
  close(): Promise<void>;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** A request head longer than this is not parsed; the connection is then relayed without faults. */
const MAX_HEAD_BYTES = 64 * 1024;

interface ParsedHead {
  readonly method: string;
  readonly target: string;
  readonly contentLength: number;
}

function parseHead(head: string): ParsedHead | undefined {
  const [requestLine, ...headerLines] = head.split('\r\n');
  const [method, target] = (requestLine ?? '').split(' ');
  if (method === undefined || target === undefined) return undefined;
  let contentLength = 0;
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    // A chunked body has no length to count; such a connection is relayed without faults.
    if (name === 'transfer-encoding' && value.toLowerCase() !== 'identity') return undefined;
    if (name === 'content-length') contentLength = Number(value);
  }
  return Number.isSafeInteger(contentLength) && contentLength >= 0 ? { method, target, contentLength } : undefined;
}

/**
 * A TCP proxy that injects network faults between the tool and the gateway, chosen per
 * HTTP request: connection resets mid-body, a byte flipped in a body, and slow, stalled
 * or held responses. It relays
 * bytes exactly (SigV4 signatures, bodies, keep-alive) and only reads request heads and
 * Content-Length to tell requests apart, so a reset looks to the client as it would from
 * a real network. A gateway it cannot reach resets the client's connection too.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  if (upstream.protocol !== 'http:') throw new Error(`fault proxy: upstream must be an http:// URL, got ${options.upstream}`);
  const upstreamPort = Number(upstream.port || 80);
  const faults = options.faults ?? (() => undefined);
  const open = new Set<Socket>();
  const counts = { connections: 0, requests: 0, resets: 0, delayedResponses: 0, flippedBodies: 0 };

  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  const server = createServer({ allowHalfOpen: true }, (client) => {
    counts.connections += 1;
    const connection = counts.connections;
    const gateway = connect({ host: upstream.hostname, port: upstreamPort, allowHalfOpen: true });
    track(client);
    track(gateway);

    // Set once a fault has cut the connection; from then on nothing more is relayed.
    let cut = false;
    const reset = () => {
      cut = true;
      gateway.destroy();
      if (!client.destroyed) client.resetAndDestroy();
    };
    // Either side failing ends the other abruptly, as a dropped connection would.
    client.on('error', () => gateway.destroy());
    gateway.on('error', reset);
    client.once('close', () => {
      // A cut connection's gateway side closes once the bytes before the cut are flushed.
      if (!cut) gateway.destroy();
    });
    const cutRequest = () => {
      counts.resets += 1;
      cut = true;
      client.resetAndDestroy();
      gateway.end(() => gateway.destroy());
    };

    // Request framing: a head, then Content-Length bytes of body, then the next head.
    let state: 'head' | 'body' | 'opaque' = 'head';
    let head = Buffer.alloc(0);
    let bodyLeft = 0;
    let bodyRelayed = 0;
    let fault: RequestFault | undefined;
    let responseHold: (() => Promise<unknown>) | undefined;
    let backpressure = false;
    const relay = (bytes: Buffer) => {
      if (bytes.length > 0 && !gateway.write(bytes)) backpressure = true;
    };

    const startRequest = (parsed: ParsedHead) => {
      counts.requests += 1;
      fault = faults({ index: counts.requests, connection, ...parsed });
      // Requests are not pipelined, so the next response bytes are this request's.
      const { responseDelayMs = 0, holdResponseUntil } = fault ?? {};
      responseHold =
        holdResponseUntil !== undefined
          ? () => holdResponseUntil
          : responseDelayMs > 0
            ? () => new Promise((resolve) => setTimeout(resolve, responseDelayMs))
            : undefined;
      bodyLeft = parsed.contentLength;
      bodyRelayed = 0;
      state = bodyLeft > 0 ? 'body' : 'head';
    };

    client.on('data', (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length && !cut) {
        if (state === 'opaque') {
          relay(chunk.subarray(offset));
          break;
        }
        if (state === 'head') {
          const seen = head.length;
          head = Buffer.concat([head, chunk.subarray(offset)]);
          const end = head.indexOf(HEAD_END, Math.max(0, seen - HEAD_END.length + 1));
          if (end < 0) {
            relay(chunk.subarray(offset));
            if (head.length > MAX_HEAD_BYTES) state = 'opaque';
            break;
          }
          const headBytes = end + HEAD_END.length - seen;
          relay(chunk.subarray(offset, offset + headBytes));
          offset += headBytes;
          const parsed = parseHead(head.subarray(0, end).toString('latin1'));
          head = Buffer.alloc(0);
          if (parsed === undefined) {
            state = 'opaque';
            continue;
          }
          startRequest(parsed);
          if (fault?.resetAfterBodyBytes === 0) cutRequest();
          continue;
        }
        const take = Math.min(bodyLeft, chunk.length - offset);
        const limit = fault?.resetAfterBodyBytes;
        if (limit !== undefined && bodyRelayed + take >= limit) {
          // The body up to the limit reaches the gateway: it sees the request cut off there.
          relay(chunk.subarray(offset, offset + (limit - bodyRelayed)));
          cutRequest();
          break;
        }
        const flipAt = fault?.flipBodyByteAt;
        if (flipAt !== undefined && flipAt >= bodyRelayed && flipAt < bodyRelayed + take) {
          const damaged = Buffer.from(chunk.subarray(offset, offset + take));
          damaged[flipAt - bodyRelayed] = (damaged[flipAt - bodyRelayed] ?? 0) ^ 0x01;
          counts.flippedBodies += 1;
          relay(damaged);
        } else relay(chunk.subarray(offset, offset + take));
        offset += take;
        bodyRelayed += take;
        bodyLeft -= take;
        if (bodyLeft === 0) state = 'head';
      }
      if (backpressure && !cut) client.pause();
    });
    gateway.on('drain', () => {
      backpressure = false;
      client.resume();
    });
    client.on('end', () => {
      if (!cut) gateway.end();
    });

    // Response bytes are written in order: a held chunk keeps the gateway paused, so nothing overtakes it.
    let pending: Promise<void> = Promise.resolve();
    gateway.on('data', (chunk: Buffer) => {
      if (responseHold !== undefined) {
        const hold = responseHold;
        responseHold = undefined;
        counts.delayedResponses += 1;
        gateway.pause();
        pending = hold().then(
          () => undefined,
          () => undefined,
        );
        void pending.then(() => {
          // A full client buffer resumes the gateway from 'drain' instead.
          if (client.destroyed || client.write(chunk)) gateway.resume();
        });
        return;
      }
      if (!client.destroyed && !client.write(chunk)) gateway.pause();
    });
    client.on('drain', () => gateway.resume());
    // The gateway's end and close wait for a held response, so it is still delivered.
    gateway.on('end', () => {
      void pending.then(() => {
        if (!client.destroyed) client.end();
      });
    });
    gateway.once('close', () => {
      void pending.then(() => {
        if (!client.writableEnded) client.destroy();
      });
    });
  });

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stats: () => ({ ...counts }),
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      for (const socket of open) socket.destroy();
      await closed;
    },
  };
}
