import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { TcpRelay } from './relay';

/** An upstream that echoes what it receives. */
async function echoServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((socket) => socket.pipe(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { server, url: `http://127.0.0.1:${address.port}` };
}

async function roundTrip(endpoint: string, payload: Buffer): Promise<{ echoed: Buffer; ms: number }> {
  const { hostname, port } = new URL(endpoint);
  const socket: Socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  const started = performance.now();
  const chunks: Buffer[] = [];
  let received = 0;
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= payload.length) resolve();
    });
  });
  socket.write(payload);
  await done;
  const ms = performance.now() - started;
  socket.destroy();
  return { echoed: Buffer.concat(chunks), ms };
}

describe('TcpRelay', () => {
  let upstream: { server: Server; url: string };
  beforeEach(async () => {
    upstream = await echoServer();
  });
  afterEach(async () => {
    upstream.server.close();
  });

  it('passes bytes both ways and counts what clients sent', async () => {
    const relay = new TcpRelay({ upstream: upstream.url, host: '127.0.0.1' });
    await relay.listen();
    try {
      const payload = Buffer.alloc(3 * 2 ** 20, 7);
      const { echoed } = await roundTrip(relay.endpoint, payload);
      expect(echoed.equals(payload)).toBe(true);
      expect(relay.uploadedBytes).toBe(payload.length);
      expect(relay.sample().bytes).toBe(payload.length);
    } finally {
      await relay.close();
    }
  });

  it('holds every byte for the delay in each direction, in order, with a bounded buffer', async () => {
    const relay = new TcpRelay({ upstream: upstream.url, host: '127.0.0.1', delayMs: 60, maxHeldBytes: 64 * 1024 });
    await relay.listen();
    try {
      const payload = Buffer.from(Array.from({ length: 512 * 1024 }, (_, i) => i % 251));
      const { echoed, ms } = await roundTrip(relay.endpoint, payload);
      expect(echoed.equals(payload)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(115); // 60 ms there and 60 ms back, less timer rounding
    } finally {
      await relay.close();
    }
  });
});
