import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny local HTTP server standing in for an S3 endpoint. It records every request
 * (so a test can prove the tool made none) and answers each with what a responder
 * decides (so a test can make the store refuse the tool's credentials).
 */

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface FakeResponse {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Responder = (request: RecordedRequest) => FakeResponse;

export interface FakeS3Endpoint {
  /** `http://127.0.0.1:<port>`, for `s3.endpoint`. */
  readonly url: string;
  /** Every request received so far, in order. */
  readonly requests: readonly RecordedRequest[];
  /** What each of them was answered, in the same order. */
  readonly responses: readonly FakeResponse[];
  close(): Promise<void>;
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * What S3 answers when it cannot verify a request's signature: 403 SignatureDoesNotMatch.
 * Like S3, the error body echoes the access key id and the canonical request, whose
 * signed headers include `x-amz-security-token` (the session token): a tool that
 * printed the raw error would leak it. HEAD responses carry no body, as on S3.
 */
export function signatureDoesNotMatch(request: RecordedRequest): FakeResponse {
  if (request.method === 'HEAD') return { status: 403 };
  const credential = /Credential=([^/,\s]+)/.exec(String(request.headers.authorization ?? ''))?.[1] ?? '';
  const canonicalHeaders = Object.entries(request.headers)
    .map(([name, value]) => `${name}:${Array.isArray(value) ? value.join(',') : String(value)}`)
    .join('\n');
  const canonicalRequest = `${request.method}\n${request.url}\n${canonicalHeaders}`;
  return {
    status: 403,
    headers: { 'content-type': 'application/xml' },
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>' +
      '<Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message>' +
      `<AWSAccessKeyId>${xml(credential)}</AWSAccessKeyId><CanonicalRequest>${xml(canonicalRequest)}</CanonicalRequest>` +
      '<RequestId>FAKE0000000000</RequestId></Error>',
  };
}

/** Starts the fake endpoint on a free loopback port; every request is answered by `respond`. */
export async function startFakeS3Endpoint(respond: Responder = signatureDoesNotMatch): Promise<FakeS3Endpoint> {
  const requests: RecordedRequest[] = [];
  const responses: FakeResponse[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    requests.push(request);
    // Read the whole body before answering, so the client never sees a reset mid-upload.
    req.resume();
    req.on('end', () => {
      const answer = respond(request);
      responses.push(answer);
      res.writeHead(answer.status, {
        ...answer.headers,
        ...(answer.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(answer.body)) }),
      });
      res.end(answer.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    responses,
    async close() {
      // The CLI under test has exited, but keep-alive sockets may linger; do not wait on them.
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A loopback URL on which nothing listens: the port was bound, then released. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return `http://127.0.0.1:${port}`;
}
