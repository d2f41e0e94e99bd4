import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { expectsContinue, forward, PASS, type Upstream } from './forward';
import { listenOnLoopback } from './loopback-server';
import { errorXml, type S3ErrorBody } from './s3-request';

export interface RefusalAnswer extends S3ErrorBody {
  readonly status: number;
}

export interface RefusingProxyOptions {
  /** The real gateway, e.g. `testGateway().endpoint`; plain http only. */
  readonly upstream: string;
  /** Answers a request with this S3 error instead of forwarding it; undefined: forward it untouched. */
  readonly refuse: (req: IncomingMessage) => RefusalAnswer | undefined;
}

export interface RefusingProxy {
  /** `http://127.0.0.1:<port>`: the S3 client's endpoint (path-style addressing). */
  readonly endpoint: string;
  /** Requests answered with a refusal so far. */
  refused(): number;
  close(): Promise<void>;
}

/**
 * A store that refuses what some real stores refuse (e.g. the stock Ceph gateway's 400
 * InvalidRequest for any request carrying `x-amz-server-side-encryption`): an HTTP proxy
 * in front of the test gateway that answers the requests `refuse` picks with an S3 error,
 * before their body is sent on, and forwards every other one untouched.
 */
export async function startRefusingProxy(options: RefusingProxyOptions): Promise<RefusingProxy> {
  const upstreamUrl = new URL(options.upstream);
  if (upstreamUrl.protocol !== 'http:') throw new Error(`refusing proxy: upstream must be an http:// URL, got ${options.upstream}`);
  const upstream: Upstream = {
    hostname: upstreamUrl.hostname,
    port: Number(upstreamUrl.port || 80),
    agent: new Agent({ keepAlive: true }),
  };
  let refusals = 0;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const refusal = options.refuse(req);
    if (refusal === undefined) {
      forward(
        upstream,
        req,
        res,
        () => PASS,
        (error) => {
          if (!res.headersSent) res.writeHead(502, { connection: 'close' });
          res.end(`refusing proxy: gateway failed: ${error.message}`);
        },
      );
      return;
    }
    refusals += 1;
    const { status, ...error } = refusal;
    const body = errorXml(error, `refusing-proxy-${refusals}`);
    // A client that waits for 100 Continue never sends the body; one that does not is drained first.
    const answer = () => {
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (expectsContinue(req)) answer();
    else {
      req.resume();
      req.once('end', answer);
    }
  };
  const server = createServer();
  server.on('request', onRequest);
  server.on('checkContinue', onRequest);
  const listening = await listenOnLoopback(server, 'refusing proxy', upstream.agent);
  return { endpoint: `http://127.0.0.1:${listening.port}`, refused: () => refusals, close: listening.close };
}
