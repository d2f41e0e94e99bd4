import { type Agent, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Where requests go: the gateway's address and the keep-alive agent that `close()` destroys. */
export interface Upstream {
  readonly hostname: string;
  readonly port: number;
  readonly agent: Agent;
}

/** What to do with the gateway's response once its status line and headers are in. */
export type ResponseDecision =
  | {
      readonly action: 'pass';
      readonly extraHeaders?: readonly (readonly [string, string])[];
      /** Gets the first 1 MiB of the body once the whole body has been relayed. */
      readonly observeBody?: (body: Buffer) => void;
    }
  | { readonly action: 'replace'; readonly respond: (res: ServerResponse) => void };

export const PASS: ResponseDecision = { action: 'pass' };

const OBSERVED_BYTES = 1024 * 1024;

/** Passes chunks through unchanged and keeps a bounded prefix for `observe`. */
class BodyTap extends Transform {
  private readonly chunks: Buffer[] = [];
  private kept = 0;

  constructor(private readonly observe: (body: Buffer) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.kept < OBSERVED_BYTES) {
      const part = chunk.subarray(0, OBSERVED_BYTES - this.kept);
      this.chunks.push(part);
      this.kept += part.length;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.observe(Buffer.concat(this.chunks));
    callback();
  }
}

export function expectsContinue(req: IncomingMessage): boolean {
  return /100-continue/i.test(req.headers.expect ?? '');
}

/**
 * Sends `req` to the gateway exactly as received (method, path and query, raw headers
 * including Host and Authorization, so SigV4 still verifies) and streams both bodies.
 * `decide` sees the gateway's response head and may let it through or answer instead.
 * A client that goes away takes the upstream request with it; a gateway that fails
 * before answering becomes a 502 (or a reset, if the request body was cut off).
 */
export function forward(
  upstream: Upstream,
  req: IncomingMessage,
  res: ServerResponse,
  decide: (response: IncomingMessage) => ResponseDecision,
  upstreamError: (error: Error) => void,
): void {
  const upstreamRequest = request({
    hostname: upstream.hostname,
    port: upstream.port,
    agent: upstream.agent,
    method: req.method,
    path: req.url,
    headers: req.rawHeaders,
    setHost: false,
  });
  const abandon = () => upstreamRequest.destroy();
  // The gateway's 100 Continue is the client's cue to send the body, as without the proxy.
  if (expectsContinue(req)) upstreamRequest.once('continue', () => res.writeContinue());
  upstreamRequest.on('error', upstreamError);
  res.once('close', () => {
    if (!res.writableFinished || !req.complete) abandon();
  });
  upstreamRequest.once('response', (response) => {
    const decision = decide(response);
    if (decision.action === 'replace') {
      response.destroy();
      abandon();
      decision.respond(res);
      return;
    }
    const extra = (decision.extraHeaders ?? []).flatMap(([name, value]) => [name, value]);
    res.writeHead(response.statusCode ?? 502, response.statusMessage, [...response.rawHeaders, ...extra]);
    const relayed = decision.observeBody ? pipeline(response, new BodyTap(decision.observeBody), res) : pipeline(response, res);
    relayed.catch(() => {
      abandon();
      res.destroy();
    });
  });
  // A failed upload is reported through upstreamRequest's 'error' or the client's 'close'.
  pipeline(req, upstreamRequest).catch(abandon);
}
