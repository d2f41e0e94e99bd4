import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { type FaultProxy, type ProxiedRequest, type RequestFault, startFaultProxy, until } from '../../src';

// A local HTTP server stands where the gateway would be, so the tests see exactly what
// reaches it through the proxy: what it received of each request body, and how it ended.

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const BLOB = randomBytes(2 * 1024 * 1024);

interface Received {
  readonly path: string;
  readonly bytes: number;
  readonly complete: boolean;
}

interface Upstream {
  readonly url: string;
  /** One entry per request body once the request has ended, completely or not. */
  readonly received: Received[];
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.end(BLOB);
      return;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const path = req.url ?? '';
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.once('end', () => {
      received.push({ path, bytes, complete: true });
      res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
    });
    req.once('close', () => {
      if (!req.complete) received.push({ path, bytes, complete: false });
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

async function send(proxy: FaultProxy, agent: Agent, method: 'GET' | 'PUT', path: string, body?: Buffer): Promise<Buffer> {
  const req = request({
    host: '127.0.0.1',
    port: proxy.port,
    method,
    path,
    agent,
    headers: body === undefined ? {} : { 'content-length': body.length },
  });
  const response = once(req, 'response') as Promise<[IncomingMessage]>;
  req.end(body);
  const [res] = await response;
  return buffer(res);
}

/** What a request through the proxy failed with (rejects if it succeeded). */
async function failure(proxy: FaultProxy, agent: Agent, path: string, body: Buffer): Promise<NodeJS.ErrnoException> {
  try {
    await send(proxy, agent, 'PUT', path, body);
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  throw new Error('the request succeeded');
}

const stored = (body: Buffer) => ({ bytes: body.length, sha256: sha256(body) });
const reply = (bytes: Buffer): unknown => JSON.parse(bytes.toString());

describe('fault proxy', () => {
  let upstream: Upstream;
  let proxy: FaultProxy | undefined;
  let agent: Agent;

  beforeEach(async () => {
    upstream = await startUpstream();
    // One socket, kept alive: several requests share a connection, as the SDK's do.
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterEach(async () => {
    agent.destroy();
    await proxy?.close();
    proxy = undefined;
    await upstream.close();
  });

  const start = async (faults?: (request: ProxiedRequest) => RequestFault | undefined) => {
    proxy = await startFaultProxy({ upstream: upstream.url, ...(faults === undefined ? {} : { faults }) });
    return proxy;
  };

  it('relays bodies byte for byte and tells the requests on one keep-alive connection apart', async () => {
    const seen: ProxiedRequest[] = [];
    const relay = await start((request) => {
      seen.push(request);
      return undefined;
    });
    const payload = randomBytes(3 * 1024 * 1024 + 7);
    expect(reply(await send(relay, agent, 'PUT', '/bucket/key?partNumber=1&uploadId=u', payload))).toEqual(stored(payload));
    expect((await send(relay, agent, 'GET', '/bucket/blob')).equals(BLOB)).toBe(true);
    expect(reply(await send(relay, agent, 'PUT', '/bucket/key?partNumber=2&uploadId=u', Buffer.alloc(0)))).toEqual(stored(Buffer.alloc(0)));
    expect(seen).toEqual([
      { index: 1, connection: 1, method: 'PUT', target: '/bucket/key?partNumber=1&uploadId=u', contentLength: payload.length },
      { index: 2, connection: 1, method: 'GET', target: '/bucket/blob', contentLength: 0 },
      { index: 3, connection: 1, method: 'PUT', target: '/bucket/key?partNumber=2&uploadId=u', contentLength: 0 },
    ]);
    expect(relay.stats()).toEqual({ connections: 1, requests: 3, resets: 0, delayedResponses: 0, flippedBodies: 0 });
  });

  it('cuts the chosen request after exactly the given body bytes and resets the client, even as the second request on a connection', async () => {
    const limit = 256 * 1024;
    let attempts = 0;
    const relay = await start((request) => {
      if (!request.target.includes('partNumber=2')) return undefined;
      attempts += 1;
      return attempts === 1 ? { resetAfterBodyBytes: limit } : undefined;
    });
    const first = randomBytes(1024 * 1024);
    const second = randomBytes(4 * 1024 * 1024);
    expect(reply(await send(relay, agent, 'PUT', '/b/k?partNumber=1', first))).toEqual(stored(first));
    const error = await failure(relay, agent, '/b/k?partNumber=2', second);
    expect(['ECONNRESET', 'EPIPE']).toContain(error.code);
    await until('the gateway to see the cut-off request end', () => upstream.received.length === 2, 10_000);
    expect(upstream.received[1]).toEqual({ path: '/b/k?partNumber=2', bytes: limit, complete: false });

    // The retry comes on a new connection and is let through.
    expect(reply(await send(relay, agent, 'PUT', '/b/k?partNumber=2', second))).toEqual(stored(second));
    expect(relay.stats()).toEqual({ connections: 2, requests: 3, resets: 1, delayedResponses: 0, flippedBodies: 0 });
  });

  it('cuts a request right after its head when the limit is 0: the gateway gets none of the body', async () => {
    const relay = await start(() => ({ resetAfterBodyBytes: 0 }));
    const error = await failure(relay, agent, '/b/k', randomBytes(64 * 1024));
    expect(['ECONNRESET', 'EPIPE']).toContain(error.code);
    await until('the gateway to see the cut-off request end', () => upstream.received.length === 1, 10_000);
    expect(upstream.received[0]).toEqual({ path: '/b/k', bytes: 0, complete: false });
  });

  it('holds the first bytes of the chosen responses and still delivers every body whole', async () => {
    const delayMs = 400;
    const relay = await start((request) => (request.index === 2 ? { responseDelayMs: delayMs } : undefined));
    const payload = randomBytes(1024 * 1024);
    expect(reply(await send(relay, agent, 'PUT', '/b/k', payload))).toEqual(stored(payload));
    const started = Date.now();
    expect((await send(relay, agent, 'GET', '/b/blob')).equals(BLOB)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(delayMs - 10);
    expect((await send(relay, agent, 'GET', '/b/blob')).equals(BLOB)).toBe(true);
    expect(relay.stats()).toEqual({ connections: 1, requests: 3, resets: 0, delayedResponses: 1, flippedBodies: 0 });
  });

  it('holds a chosen response until the test releases it, then delivers it whole', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const relay = await start((request) => (request.index === 1 ? { holdResponseUntil: held } : undefined));
    let answered = false;
    const answer = send(relay, agent, 'GET', '/b/blob').then((bytes) => {
      answered = true;
      return bytes;
    });
    await until('the gateway to have answered', () => upstream.received.length === 0 && relay.stats().delayedResponses === 1, 10_000);
    expect(answered).toBe(false);
    release();
    expect((await answer).equals(BLOB)).toBe(true);
  });

  it('flips exactly the chosen body byte on its way to the gateway, and only in the chosen request', async () => {
    const relay = await start((request) => (request.index === 1 ? { flipBodyByteAt: 70_000 } : undefined));
    const payload = randomBytes(256 * 1024);
    const damaged = Buffer.from(payload);
    damaged[70_000] = (damaged[70_000] ?? 0) ^ 0x01;
    expect(reply(await send(relay, agent, 'PUT', '/b/k', payload))).toEqual(stored(damaged));
    expect(reply(await send(relay, agent, 'PUT', '/b/k', payload))).toEqual(stored(payload));
    expect(relay.stats()).toMatchObject({ requests: 2, flippedBodies: 1 });
  });

  it('resets the client connection when the gateway cannot be reached, instead of leaving it hanging', async () => {
    const gone = upstream.url;
    await upstream.close();
    upstream = await startUpstream(); // for afterEach; the proxy points at the closed port
    proxy = await startFaultProxy({ upstream: gone });
    const error = await failure(proxy, agent, '/b/k', Buffer.from('x'));
    expect(['ECONNRESET', 'EPIPE']).toContain(error.code);
  });

  it('closes every open connection when it is closed', async () => {
    const relay = await start();
    await send(relay, agent, 'GET', '/b/blob');
    const sockets = Object.values(agent.freeSockets).flat();
    expect(sockets).toHaveLength(1);
    const closed = once(sockets[0] as Socket, 'close');
    await relay.close();
    proxy = undefined;
    await closed;
  });

  it('refuses an upstream that is not plain http', async () => {
    await expect(startFaultProxy({ upstream: 'https://127.0.0.1:1' })).rejects.toThrow('fault proxy: upstream must be an http:// URL');
  });
});
