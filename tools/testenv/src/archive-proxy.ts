import { once } from 'node:events';
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { ArchiveState, type RestoreRequestRecord } from './archive-state';
import { expectsContinue, forward, PASS, type ResponseDecision, type Upstream } from './forward';
import { classify, errorXml, objectPath, parseRestoreRequest, type S3ErrorBody } from './s3-request';
import { type SigningCredentials, signedHeaders } from './sigv4';
import { testGateway } from './gateway';
import { listenOnLoopback } from './loopback-server';

export interface ArchiveProxyOptions {
  /** The real gateway, e.g. `testGateway().endpoint`; plain http only. */
  readonly upstream: string;
  /** Storage classes that behave as S3's archive tier (default GLACIER and DEEP_ARCHIVE). */
  readonly archiveClasses?: readonly string[];
  /**
   * Thaw a restore by itself right after the n-th HeadObject that reported it ongoing
   * (0: restored as soon as requested). Default: only `thaw()`/`thawAll()` thaw.
   */
  readonly thawAfterHeads?: number;
  /** Clock for restore expiry dates; a restored copy past its expiry is archived again. Default: wall clock. */
  readonly now?: () => Date;
  /**
   * Lets the proxy HEAD an object at the gateway itself when RestoreObject names a key
   * whose class it has not seen (not written, read or HEADed through the proxy).
   * Without them such a RestoreObject gets 400 ArchiveProxyUnknownStorageClass saying so.
   */
  readonly credentials?: SigningCredentials;
  /** Region for signing that HEAD (default us-east-1). */
  readonly region?: string;
}

export interface ArchiveProxy {
  /** `http://127.0.0.1:<port>`: the S3 client's endpoint (path-style addressing). */
  readonly endpoint: string;
  readonly port: number;
  /** Well-formed RestoreObject requests per object key (bucket not included), whatever their answer. */
  restoreRequests(): Map<string, RestoreRequestRecord>;
  /** Completes the ongoing restore of `key` (throws if there is none), or of every key when omitted. */
  thaw(key?: string): void;
  /** Completes every ongoing restore; returns the keys thawed. */
  thawAll(): string[];
  /** Stops listening and destroys every client and gateway socket. */
  close(): Promise<void>;
}

const DEFAULT_ARCHIVE_CLASSES = ['GLACIER', 'DEEP_ARCHIVE'];
const MAX_RESTORE_BODY = 64 * 1024;

function header(message: IncomingMessage, name: string): string | undefined {
  const value = message.headers[name];
  return typeof value === 'string' ? value : value?.[0];
}

const isSuccess = (response: IncomingMessage) => (response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300;

async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    if (!Buffer.isBuffer(chunk)) throw new Error('request body chunk is not a Buffer');
    length += chunk.length;
    if (length > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An S3 archive tier in front of a gateway that has none: an HTTP proxy that forwards
 * every request untouched but answers GetObject of archived objects with 403
 * InvalidObjectState until a RestoreObject (answered here, never forwarded) has been
 * thawed, and adds `x-amz-restore` to HeadObject. State is per object key, so use
 * one bucket per proxy.
 */
export async function startArchiveProxy(options: ArchiveProxyOptions): Promise<ArchiveProxy> {
  const upstreamUrl = new URL(options.upstream);
  if (upstreamUrl.protocol !== 'http:') throw new Error(`archive proxy: upstream must be an http:// URL, got ${options.upstream}`);
  const { thawAfterHeads } = options;
  if (thawAfterHeads !== undefined && !(Number.isInteger(thawAfterHeads) && thawAfterHeads >= 0)) {
    throw new Error(`archive proxy: thawAfterHeads must be a non-negative integer, got ${thawAfterHeads}`);
  }
  const now = options.now ?? (() => new Date());
  const state = new ArchiveState({ archiveClasses: options.archiveClasses ?? DEFAULT_ARCHIVE_CLASSES, thawAfterHeads, now });
  const upstream: Upstream = {
    hostname: upstreamUrl.hostname,
    port: Number(upstreamUrl.port || 80),
    agent: new Agent({ keepAlive: true }),
  };
  // CreateMultipartUpload's storage class, by UploadId, until Complete or Abort.
  const uploadClasses = new Map<string, string>();
  let requestCount = 0;

  function sendError(res: ServerResponse, status: number, error: S3ErrorBody, extraHeaders: Record<string, string> = {}): void {
    const requestId = `archive-proxy-${++requestCount}`;
    const body = errorXml(error, requestId);
    res.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      'x-amz-request-id': requestId,
      ...extraHeaders,
    });
    res.end(body);
  }

  function sendEmpty(res: ServerResponse, status: number): void {
    res.writeHead(status, { 'content-length': 0, 'x-amz-request-id': `archive-proxy-${++requestCount}` });
    res.end();
  }

  const invalidObjectState = (key: string, storageClass: string): ResponseDecision => ({
    action: 'replace',
    respond: (res) =>
      sendError(res, 403, {
        code: 'InvalidObjectState',
        message: "The operation is not valid for the object's storage class",
        storageClass,
        key,
      }),
  });

  /** The gateway answered a HEAD or GET: learn the class, and hide archived bytes. */
  function observeRead(key: string, response: IncomingMessage, kind: 'GetObject' | 'HeadObject'): ResponseDecision {
    if (response.statusCode === 404) state.forget(key);
    if (response.statusCode !== 200 && response.statusCode !== 206) return PASS;
    const storageClass = header(response, 'x-amz-storage-class') ?? 'STANDARD';
    state.learn(key, storageClass);
    if (!state.isArchiveClass(storageClass)) return PASS;
    if (kind === 'GetObject') return state.readable(key) ? PASS : invalidObjectState(key, storageClass);
    const restore = state.headObject(key);
    return restore === undefined ? PASS : { action: 'pass', extraHeaders: [['x-amz-restore', restore]] };
  }

  /** The proxy's own signed HeadObject, for RestoreObject on a key it knows nothing about. */
  async function lookUpClass(
    bucket: string,
    key: string,
    credentials: SigningCredentials,
  ): Promise<{ found: false } | { found: true; storageClass: string }> {
    const path = objectPath(bucket, key);
    const host = upstreamUrl.host;
    const head = request({
      hostname: upstream.hostname,
      port: upstream.port,
      agent: upstream.agent,
      method: 'HEAD',
      path,
      // Signed on the wall clock, not `now`: the gateway refuses skewed request times.
      headers: signedHeaders({ method: 'HEAD', host, path }, credentials, options.region ?? 'us-east-1', new Date()),
    });
    head.end();
    const [response]: IncomingMessage[] = await once(head, 'response');
    if (response === undefined) throw new Error('no HeadObject response');
    response.resume();
    if (response.statusCode === 404) return { found: false };
    if (response.statusCode !== 200) throw new Error(`its own HeadObject of ${key} got HTTP ${response.statusCode}`);
    return { found: true, storageClass: header(response, 'x-amz-storage-class') ?? 'STANDARD' };
  }

  async function restoreObject(req: IncomingMessage, res: ServerResponse, bucket: string, key: string): Promise<void> {
    if (expectsContinue(req)) res.writeContinue();
    const body = await readBody(req, MAX_RESTORE_BODY);
    if (body === undefined)
      return sendError(res, 400, { code: 'MaxMessageLengthExceeded', message: 'Your request was too big.', key }, { connection: 'close' });
    const parsed = parseRestoreRequest(body);
    if (!parsed.ok) return sendError(res, 400, { ...parsed.error, key });
    state.recordRestoreRequest(key, parsed);
    if (state.classOf(key) === undefined) {
      if (options.credentials === undefined) {
        const message = `archive proxy: the storage class of ${key} is unknown (not written, read or HEADed through the proxy); pass credentials to startArchiveProxy so it can HEAD the object itself`;
        // 4xx, not 5xx: the SDK would retry a server error, and this is the test's setup mistake.
        return sendError(res, 400, { code: 'ArchiveProxyUnknownStorageClass', message, key });
      }
      const found = await lookUpClass(bucket, key, options.credentials);
      if (!found.found) return sendError(res, 404, { code: 'NoSuchKey', message: 'The specified key does not exist.', key });
      state.learn(key, found.storageClass);
    }
    switch (state.startRestore(key, parsed.days)) {
      case 'accepted':
        return sendEmpty(res, 202);
      case 'already-restored':
        return sendEmpty(res, 200);
      case 'in-progress':
        return sendError(res, 409, { code: 'RestoreAlreadyInProgress', message: 'Object restore is already in progress', key });
      case 'not-archived':
        return sendError(res, 403, {
          code: 'InvalidObjectState',
          message: "Restore is not allowed for the object's current storage class",
          storageClass: state.classOf(key),
          key,
        });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const operation = classify(req.method, req.url);
    const requestedClass = header(req, 'x-amz-storage-class') ?? 'STANDARD';
    const upstreamError = (error: Error) => {
      if (res.writableEnded) return;
      if (res.headersSent) res.destroy();
      else
        sendError(
          res,
          502,
          { code: 'BadGateway', message: `archive proxy: gateway ${options.upstream} failed: ${error.message}` },
          { connection: 'close' },
        );
    };
    const pass = (decide: (response: IncomingMessage) => ResponseDecision) => forward(upstream, req, res, decide, upstreamError);
    switch (operation.kind) {
      case 'Other':
        return pass(() => PASS);
      case 'RestoreObject':
        return restoreObject(req, res, operation.bucket, operation.key);
      case 'GetObject':
      case 'HeadObject': {
        const { key, kind } = operation;
        return pass((response) => observeRead(key, response, kind));
      }
      case 'PutObject':
        return pass((response) => {
          if (isSuccess(response)) state.replaced(operation.key, requestedClass);
          return PASS;
        });
      case 'DeleteObject':
        return pass((response) => {
          if (isSuccess(response)) state.forget(operation.key);
          return PASS;
        });
      case 'CreateMultipartUpload':
        return pass((response) => {
          if (!isSuccess(response)) return PASS;
          const observeBody = (body: Buffer) => {
            const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(body.toString('utf8'))?.[1];
            if (uploadId !== undefined) uploadClasses.set(uploadId, requestedClass);
          };
          return { action: 'pass', observeBody };
        });
      case 'CompleteMultipartUpload':
        return pass((response) => {
          if (!isSuccess(response)) return PASS;
          // S3 may report a failed Complete as 200 with an <Error> body.
          const observeBody = (body: Buffer) => {
            if (body.toString('utf8').includes('<Error>')) return;
            state.replaced(operation.key, uploadClasses.get(operation.uploadId));
            uploadClasses.delete(operation.uploadId);
          };
          return { action: 'pass', observeBody };
        });
      case 'AbortMultipartUpload':
        return pass((response) => {
          if (isSuccess(response)) uploadClasses.delete(operation.uploadId);
          return PASS;
        });
    }
  }

  const server = createServer();
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) res.destroy();
      else
        sendError(
          res,
          500,
          { code: 'InternalError', message: `archive proxy: ${error instanceof Error ? error.message : String(error)}` },
          { connection: 'close' },
        );
    });
  };
  server.on('request', onRequest);
  // Relayed, not answered here: the gateway decides whether the client may send the body.
  server.on('checkContinue', onRequest);
  const listening = await listenOnLoopback(server, 'archive proxy', upstream.agent);
  return {
    endpoint: `http://127.0.0.1:${listening.port}`,
    port: listening.port,
    restoreRequests: () => state.restoreRequests(),
    thaw: (key?: string) => {
      if (key === undefined) state.thawAll();
      else state.thaw(key);
    },
    thawAll: () => state.thawAll(),
    close: listening.close,
  };
}

/**
 * A jest test body run with an archive double in front of the test gateway (its
 * credentials from the environment), closed however the body ends.
 */
export function withArchiveProxy(
  options: Omit<ArchiveProxyOptions, 'upstream' | 'credentials' | 'region'>,
  fn: (proxy: ArchiveProxy) => Promise<void>,
): () => Promise<void> {
  return async () => {
    const gateway = testGateway();
    const proxy = await startArchiveProxy({
      upstream: gateway.endpoint,
      credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '' },
      region: gateway.region,
      ...options,
    });
    try {
      await fn(proxy);
    } finally {
      await proxy.close();
    }
  };
}
