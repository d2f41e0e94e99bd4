import { once } from 'node:events';
import { type ClientRequest, createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { type ArchiveProxy, startArchiveProxy } from '../../src';

// These tests put a local HTTP server where the gateway would be, to see exactly what
// the proxy sends upstream and to make the gateway misbehave on cue.

interface FakeGateway {
  readonly url: string;
  readonly server: Server;
  /** One promise per accepted connection, settled when that socket has closed. */
  readonly socketsClosed: Promise<void>[];
  openSockets(): number;
  close(): Promise<void>;
}

async function fakeGateway(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<FakeGateway> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  const socketsClosed: Promise<void>[] = [];
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socketsClosed.push(once(socket, 'close').then(() => undefined));
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${port(server)}`,
    server,
    socketsClosed,
    openSockets: () => sockets.size,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function port(server: Server): number {
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
  return address.port;
}

interface Reply {
  readonly status: number | undefined;
  readonly statusMessage: string | undefined;
  readonly rawHeaders: string[];
  readonly body: string;
}

function proxyRequest(proxy: ArchiveProxy, method: string, path: string, headers: string[]): ClientRequest {
  return request({ host: '127.0.0.1', port: proxy.port, method, path, headers, agent: false });
}

async function reply(req: ClientRequest): Promise<Reply> {
  const response = await responseOf(req);
  const body = await within(buffer(response), 'the response body');
  return { status: response.statusCode, statusMessage: response.statusMessage, rawHeaders: response.rawHeaders, body: body.toString() };
}

async function withGateway(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  fn: (context: { gateway: FakeGateway; proxy: ArchiveProxy }) => Promise<void>,
): Promise<void> {
  const gateway = await fakeGateway(handler);
  try {
    const proxy = await startArchiveProxy({ upstream: gateway.url });
    try {
      await fn({ gateway, proxy });
    } finally {
      await proxy.close();
    }
  } finally {
    await gateway.close();
  }
}

/** Rejects unless `promise` settles within `ms`: a missing event fails the test, and its cleanup still runs. */
async function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function responseOf(req: ClientRequest): Promise<IncomingMessage> {
  const [response]: IncomingMessage[] = await within(once(req, 'response'), 'the response');
  if (response === undefined) throw new Error('no response');
  return response;
}

/** A promise with its resolve function, for handing a signal between client and gateway. */
function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

describe('archive proxy transport', () => {
  it('forwards method, path, query, raw headers (Host and Authorization as received) and body unchanged, and relays the response as sent', async () => {
    const seen = signal<{ method: string | undefined; url: string | undefined; rawHeaders: string[]; body: string }>();
    const handler = async (req: IncomingMessage, res: ServerResponse) => {
      seen.resolve({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, body: (await buffer(req)).toString() });
      res.writeHead(201, 'Made It', ['X-Upstream', 'yes', 'X-Amz-Request-Id', 'tx1', 'Content-Length', '5']);
      res.end('reply');
    };
    await withGateway(handler, async ({ proxy }) => {
      const path = '/bucket/a%20b%2Bc.bin?partNumber=2&uploadId=u%2F1&x-id=UploadPart';
      const headers = [
        'Host',
        'example.invalid:9000',
        'Authorization',
        'AWS4-HMAC-SHA256 Credential=AKID/20300101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc',
        'X-Amz-Date',
        '20300101T000000Z',
        'x-amz-meta-Mixed',
        'One',
        'x-amz-meta-Mixed',
        'Two',
        'Content-Length',
        '7',
        'Connection',
        'close',
      ];
      const req = proxyRequest(proxy, 'PUT', path, headers);
      req.end('payload');
      const response = await reply(req);

      expect(await within(seen.promise, 'the forwarded request')).toEqual({
        method: 'PUT',
        url: path,
        rawHeaders: headers,
        body: 'payload',
      });
      expect(response).toMatchObject({ status: 201, statusMessage: 'Made It', body: 'reply' });
      expect(response.rawHeaders.slice(0, 6)).toEqual(['X-Upstream', 'yes', 'X-Amz-Request-Id', 'tx1', 'Content-Length', '5']);
    });
  });

  it('streams a response to the client before the gateway has finished sending it', async () => {
    const clientGotFirstChunk = signal();
    const handler = async (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('first ');
      await clientGotFirstChunk.promise;
      res.end('second');
    };
    await withGateway(handler, async ({ proxy }) => {
      const req = proxyRequest(proxy, 'GET', '/bucket/streamed', ['Host', 'h']);
      req.end();
      const response = await responseOf(req);
      const readAll = async () => {
        const chunks: string[] = [];
        for await (const chunk of response) {
          chunks.push(String(chunk));
          clientGotFirstChunk.resolve();
        }
        return chunks.join('');
      };
      expect(await within(readAll(), 'the whole response')).toBe('first second');
    });
  }, 10_000);

  it('streams a request body to the gateway before the client has finished sending it', async () => {
    const gatewayGotFirstChunk = signal<string>();
    const handler = async (req: IncomingMessage, res: ServerResponse) => {
      const chunks: string[] = [];
      for await (const chunk of req) {
        chunks.push(String(chunk));
        gatewayGotFirstChunk.resolve(String(chunk));
      }
      res.end(chunks.join(''));
    };
    await withGateway(handler, async ({ proxy }) => {
      const req = proxyRequest(proxy, 'PUT', '/bucket/uploaded', ['Host', 'h', 'Transfer-Encoding', 'chunked']);
      req.write('first ');
      expect(await within(gatewayGotFirstChunk.promise, 'the first chunk at the gateway')).toBe('first ');
      req.end('second');
      expect((await reply(req)).body).toBe('first second');
    });
  }, 10_000);

  it('destroys the upstream request when the client disconnects in the middle of the response', async () => {
    const upstreamClosed = signal<boolean>();
    const handler = (_req: IncomingMessage, res: ServerResponse) => {
      res.once('close', () => upstreamClosed.resolve(res.writableFinished));
      res.writeHead(200, { 'content-length': 1_000_000 });
      res.write('partial');
    };
    await withGateway(handler, async ({ proxy }) => {
      const req = proxyRequest(proxy, 'GET', '/bucket/big', ['Host', 'h']);
      req.on('error', () => undefined);
      req.end();
      const response = await responseOf(req);
      await within(once(response, 'data'), 'the first chunk');
      req.destroy();
      expect(await within(upstreamClosed.promise, 'the upstream request to close')).toBe(false);
    });
  }, 10_000);

  it('destroys the upstream request when the client disconnects before the gateway answers', async () => {
    const gatewayGotRequest = signal();
    const upstreamClosed = signal();
    const handler = (req: IncomingMessage) => {
      req.socket.once('close', () => upstreamClosed.resolve());
      gatewayGotRequest.resolve();
    };
    await withGateway(handler, async ({ proxy }) => {
      const req = proxyRequest(proxy, 'GET', '/bucket/slow', ['Host', 'h']);
      req.on('error', () => undefined);
      req.end();
      await within(gatewayGotRequest.promise, 'the request at the gateway');
      req.destroy();
      await within(upstreamClosed.promise, 'the upstream socket to close');
    });
  }, 10_000);

  it('resets the client connection, rather than hanging, when the gateway dies mid-response', async () => {
    const handler = (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-length': 100 });
      res.write('ten bytes!', () => res.socket?.destroy());
    };
    await withGateway(handler, async ({ proxy }) => {
      const req = proxyRequest(proxy, 'GET', '/bucket/cut', ['Host', 'h']);
      req.end();
      await expect(reply(req)).rejects.toThrow(/aborted|ECONNRESET|socket hang up/);
    });
  }, 10_000);

  it('answers 502 with an S3 error body when the gateway refuses connections', async () => {
    const unused = createServer();
    unused.listen(0, '127.0.0.1');
    await once(unused, 'listening');
    const closedPort = port(unused);
    unused.close();
    await once(unused, 'close');
    const proxy = await startArchiveProxy({ upstream: `http://127.0.0.1:${closedPort}` });
    try {
      const req = proxyRequest(proxy, 'GET', '/bucket/key', ['Host', 'h']);
      req.end();
      const response = await reply(req);
      expect(response.status).toBe(502);
      expect(response.body).toMatch(/<Error><Code>BadGateway<\/Code><Message>archive proxy: gateway .* failed: connect ECONNREFUSED/);
    } finally {
      await proxy.close();
    }
  });

  it('relays the gateway 100 Continue, and a refusal without one, to a client that sent Expect', async () => {
    const handler = async (req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/bucket/refused') {
        res.writeHead(403, { 'content-length': 0, connection: 'close' });
        res.end();
        return;
      }
      res.writeContinue();
      res.end(`got ${(await buffer(req)).toString()}`);
    };
    const gateway = await fakeGateway(() => undefined);
    gateway.server.removeAllListeners('request');
    gateway.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => void handler(req, res));
    try {
      const proxy = await startArchiveProxy({ upstream: gateway.url });
      try {
        const headers = ['Host', 'h', 'Expect', '100-continue', 'Content-Length', '4'];
        const accepted = proxyRequest(proxy, 'PUT', '/bucket/accepted', headers);
        accepted.once('continue', () => accepted.end('body'));
        expect((await reply(accepted)).body).toBe('got body');

        const refused = proxyRequest(proxy, 'PUT', '/bucket/refused', headers);
        let continued = false;
        refused.once('continue', () => {
          continued = true;
        });
        expect((await reply(refused)).status).toBe(403);
        expect(continued).toBe(false);
        refused.destroy();
      } finally {
        await proxy.close();
      }
    } finally {
      await gateway.close();
    }
  }, 10_000);

  it('close() destroys its kept-alive gateway sockets and client connections and stops listening', async () => {
    await withGateway(
      (_req, res) => res.end('ok'),
      async ({ gateway, proxy }) => {
        const client = connect(proxy.port, '127.0.0.1');
        await within(once(client, 'connect'), 'the connection');
        client.write('GET /bucket/key HTTP/1.1\r\nHost: h\r\n\r\n');
        await within(once(client, 'data'), 'the response');
        expect(gateway.openSockets()).toBe(1);

        await proxy.close();
        await within(Promise.all([...gateway.socketsClosed, once(client, 'close')]), 'every socket to close');
        expect(gateway.openSockets()).toBe(0);
        const refused = connect(proxy.port, '127.0.0.1');
        const [error]: unknown[] = await within(once(refused, 'error'), 'the refused connection');
        expect(error).toMatchObject({ code: 'ECONNREFUSED' });
      },
    );
  }, 10_000);
});
