import { createServer, type Server } from 'node:net';
import { FirstRequestRelay, timeStartup } from './startup';

/** A stand-in gateway: answers every chunk it receives with "ok:" and the chunk. */
async function echoServer(): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((socket) => socket.on('data', (data) => socket.write(`ok:${data.toString()}`)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { server, endpoint: `http://127.0.0.1:${address.port}` };
}

/** node -e code: waits `delayMs`, sends "hi" to the relay, exits 0 only on the gateway's answer (within 5 s). */
function client(relay: FirstRequestRelay, delayMs: number): string {
  const { port } = new URL(relay.endpoint);
  return [
    `setTimeout(() => process.exit(4), 5000).unref();`,
    `setTimeout(() => {`,
    `  const s = require('net').connect(${port}, '127.0.0.1', () => s.write('hi'));`,
    `  s.on('data', (d) => { process.exitCode = String(d) === 'ok:hi' ? 0 : 3; s.end(); });`,
    `}, ${delayMs});`,
  ].join('\n');
}

describe('timeStartup', () => {
  let gateway: { server: Server; endpoint: string };
  let relay: FirstRequestRelay;
  beforeEach(async () => {
    gateway = await echoServer();
    relay = new FirstRequestRelay(gateway.endpoint);
    await relay.listen();
  });
  afterEach(async () => {
    await relay.close();
    await new Promise((resolve) => gateway.server.close(resolve));
  });

  it('times each run from exec to the first request through the relay, and to exit, beside a bare node -e 0', async () => {
    const node = process.execPath;
    const runs = await timeStartup({
      executable: { kind: 'given', path: node, node },
      args: ['-e', client(relay, 300)],
      env: {},
      relay,
      runs: 3,
    });
    expect(runs).toHaveLength(3);
    for (const run of runs) {
      expect(run.firstRequestSeconds).toBeGreaterThanOrEqual(0.3);
      expect(run.wallSeconds).toBeGreaterThan(run.firstRequestSeconds);
      expect(run.bareNodeSeconds).toBeGreaterThan(0);
    }
  });

  it('fails a run that sends no request', async () => {
    const node = process.execPath;
    await expect(
      timeStartup({ executable: { kind: 'given', path: node, node }, args: ['-e', '0'], env: {}, relay, runs: 1 }),
    ).rejects.toThrow('sent no request through the relay');
  });
});
