import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createS3Client, nameTimeoutSetting, withS3Client } from './client';
import { isRetryableS3Error } from './retry';

const TIMEOUTS = { request_timeout_seconds: 120, connect_timeout_seconds: 10 };

describe('createS3Client', () => {
  it('takes region, endpoint, path style and checksum mode from config', async () => {
    const client = createS3Client({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:7480',
      path_style: true,
      checksum_mode: 'when_required',
      concurrency: 4,
      ...TIMEOUTS,
    });
    expect(await client.config.region()).toBe('eu-west-1');
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    // Retries are withRetry's alone; the SDK makes one attempt per send.
    expect(await client.config.maxAttempts()).toBe(1);
    const endpoint = await client.config.endpoint?.();
    expect(endpoint?.hostname).toBe('127.0.0.1');
    expect(endpoint?.port).toBe(7480);
    client.destroy();
  });

  it('defaults to AWS endpoints, virtual-host style and the SDK checksums', async () => {
    const client = createS3Client({
      region: 'us-east-1',
      endpoint: undefined,
      path_style: false,
      checksum_mode: 'when_supported',
      concurrency: 4,
      ...TIMEOUTS,
    });
    expect(client.config.forcePathStyle).toBe(false);
    expect(client.config.endpoint).toBeUndefined();
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
    client.destroy();
  });

  it("adds none of the SDK's own checksums beyond what an operation requires with checksum_mode auto", async () => {
    const client = createS3Client({
      region: 'us-east-1',
      endpoint: undefined,
      path_style: false,
      checksum_mode: 'auto',
      concurrency: 4,
      ...TIMEOUTS,
    });
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    client.destroy();
  });
});

describe('withS3Client', () => {
  const config = {
    region: 'us-east-1',
    endpoint: undefined,
    path_style: false,
    checksum_mode: 'when_required',
    concurrency: 1,
    ...TIMEOUTS,
  } as const;

  it('destroys a client it made when the work ends, even when the work throws', async () => {
    let made: S3Client | undefined;
    await expect(
      withS3Client(config, undefined, async (client) => {
        made = client;
        jest.spyOn(client, 'destroy');
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(made?.destroy).toHaveBeenCalledTimes(1);
  });

  it("hands the caller's client to the work and leaves it open", async () => {
    const own = createS3Client(config);
    const destroy = jest.spyOn(own, 'destroy');
    await expect(withS3Client(config, own, async (client) => client === own)).resolves.toBe(true);
    expect(destroy).not.toHaveBeenCalled();
    own.destroy();
  });
});

describe('client timeouts', () => {
  // A server that accepts connections but neither reads nor answers: what a stopped
  // (SIGSTOP) gateway looks like from the client, whose kernel still completes the handshake.
  let server: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.pause();
      socket.once('close', () => sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  });
  const silentEndpoint = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

  it('fails a request to a store that never answers after s3.request_timeout_seconds, retryably and naming that setting', async () => {
    const client = createS3Client({
      region: 'us-east-1',
      endpoint: silentEndpoint(),
      path_style: true,
      checksum_mode: 'when_required',
      concurrency: 1,
      request_timeout_seconds: 0.3,
      connect_timeout_seconds: 10,
    });
    client.config.credentials = async () => credentials;
    const started = Date.now();
    // A body bigger than the socket buffers: the upload stalls mid-body, and the timeout must still fire.
    const sent = client.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'key', Body: Buffer.alloc(32 * 1024 * 1024) }));
    const error: unknown = await sent.then(
      () => new Error('the request succeeded against a server that never answers'),
      (rejection: unknown) => rejection,
    );
    const elapsed = Date.now() - started;
    client.destroy();
    expect(error).toMatchObject({ name: 'TimeoutError', message: expect.stringContaining('s3.request_timeout_seconds') });
    expect((error as Error).message).toContain('0.3 s');
    expect(isRetryableS3Error(error)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5000);
  });

  it('names s3.connect_timeout_seconds when a connection could not be opened in time', () => {
    const error = Object.assign(
      new Error(
        '@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 2000 ms.',
      ),
      { name: 'TimeoutError' },
    );
    expect(nameTimeoutSetting(error, 120_000, 2000)).toMatchObject({
      name: 'TimeoutError',
      message: 'could not connect to the S3 endpoint within 2 s (s3.connect_timeout_seconds)',
    });
    expect(isRetryableS3Error(error)).toBe(true);
  });

  it('leaves other errors as they are', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(nameTimeoutSetting(reset, 1000, 1000)).toBe(reset);
    expect(reset.message).toBe('socket hang up');
    expect(nameTimeoutSetting('text', 1000, 1000)).toBe('text');
  });
});
