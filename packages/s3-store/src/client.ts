import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '@org/btrfs-s3-core';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

export type S3ConnectionConfig = Pick<
  Config['s3'],
  'region' | 'endpoint' | 'path_style' | 'checksum_mode' | 'concurrency' | 'request_timeout_seconds' | 'connect_timeout_seconds'
>;

/** Overrides of the config's timeouts, in milliseconds (for callers that are not driven by a config file). */
export interface S3ClientTuning {
  /** A request that sends and receives nothing for this long fails (and is retried); a hung server must not hang the run. */
  readonly requestTimeoutMs?: number;
  /** Connecting to the endpoint gives up after this long. */
  readonly connectionTimeoutMs?: number;
}

/**
 * The keep-alive sockets the client holds: enough for every part in flight plus as many
 * small requests beside them. Reads of many small objects (a chain's manifests) go this
 * many at a time.
 */
export function connectionsFor(config: Pick<Config['s3'], 'concurrency'>): number {
  return config.concurrency * 2 + 2;
}

/**
 * The one place the project creates its S3 client. Credentials come only from the
 * SDK's standard chain (environment, profile, instance role), never from config.
 */
export function createS3Client(config: S3ConnectionConfig, tuning: S3ClientTuning = {}): S3Client {
  const requestTimeoutMs = tuning.requestTimeoutMs ?? config.request_timeout_seconds * 1000;
  const connectionTimeoutMs = tuning.connectionTimeoutMs ?? config.connect_timeout_seconds * 1000;
  const agentOptions = { keepAlive: true, maxSockets: connectionsFor(config) };
  // `auto`: our own hashes cover every byte stored (see CHECKSUM_MODES), so the SDK adds none of its own.
  const checksums = config.checksum_mode === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
  const client = new S3Client({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    forcePathStyle: config.path_style,
    // One attempt per send: retries belong to withRetry (src/retry.ts), the project's one
    // retry loop. SDK retries underneath would multiply attempts (5 x 3) and hide backoff.
    maxAttempts: 1,
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    requestHandler: new NodeHttpHandler({
      // socketTimeout, not requestTimeout: the handler's requestTimeout only logs a warning
      // unless told to throw, and it bounds a whole transfer, which would fail big parts on a
      // slow uplink. An inactivity bound fails exactly the requests a stopped store leaves
      // hanging (seen: SIGSTOP of the gateway hung a run forever under requestTimeout).
      socketTimeout: requestTimeoutMs,
      connectionTimeout: connectionTimeoutMs,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    }),
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw nameTimeoutSetting(error, requestTimeoutMs, connectionTimeoutMs);
      }
    },
    { step: 'initialize', name: 'btrfsToS3TimeoutSetting', override: true },
  );
  return client;
}

const seconds = (ms: number) => `${ms / 1000} s`;

/**
 * The handler's timeout messages name its own options ("configured by client
 * requestHandler"); an operator needs the config key to change. The error keeps its
 * name (TimeoutError), so it is still retried.
 */
export function nameTimeoutSetting(error: unknown, requestTimeoutMs: number, connectionTimeoutMs: number): unknown {
  if (!(error instanceof Error) || error.name !== 'TimeoutError') return error;
  if (/did not establish a connection/i.test(error.message)) {
    error.message = `could not connect to the S3 endpoint within ${seconds(connectionTimeoutMs)} (s3.connect_timeout_seconds)`;
  } else if (/timed out after \d+ ms of inactivity/i.test(error.message)) {
    error.message = `the S3 request sent and received nothing for ${seconds(requestTimeoutMs)}; timed out (s3.request_timeout_seconds)`;
  }
  return error;
}

/**
 * Runs `fn` with the caller's client, or with one made from `config` and destroyed
 * when `fn` settles: a library call that made its own client closes its sockets,
 * one that was given a client leaves it to its owner.
 */
export async function withS3Client<T>(
  config: S3ConnectionConfig,
  client: S3Client | undefined,
  fn: (client: S3Client) => Promise<T>,
): Promise<T> {
  if (client !== undefined) return fn(client);
  const own = createS3Client(config);
  try {
    return await fn(own);
  } finally {
    own.destroy();
  }
}
