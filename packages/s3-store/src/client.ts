import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '@org/btrfs-s3-core';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

export type S3ConnectionConfig = Pick<Config['s3'], 'region' | 'endpoint' | 'path_style' | 'checksum_mode' | 'concurrency'>;

export interface S3ClientTuning {
  /** A request with no response bytes for this long fails (and is retried); a hung server must not hang the run. */
  readonly requestTimeoutMs?: number;
  /** Connecting to the endpoint gives up after this long. */
  readonly connectionTimeoutMs?: number;
}

const DEFAULT_TUNING = { requestTimeoutMs: 120_000, connectionTimeoutMs: 10_000 } as const;

/**
 * The one place the project creates its S3 client. Credentials come only from the
 * SDK's standard chain (environment, profile, instance role), never from config.
 */
export function createS3Client(config: S3ConnectionConfig, tuning: S3ClientTuning = {}): S3Client {
  const { requestTimeoutMs, connectionTimeoutMs } = { ...DEFAULT_TUNING, ...tuning };
  // Keep-alive sockets, enough for every part in flight plus manifest/list calls.
  const agentOptions = { keepAlive: true, maxSockets: config.concurrency * 2 + 2 };
  const checksums = config.checksum_mode === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  return new S3Client({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    forcePathStyle: config.path_style,
    // One attempt per send: retries belong to withRetry (src/retry.ts), the project's one
    // retry loop. SDK retries underneath would multiply attempts (5 x 3) and hide backoff.
    maxAttempts: 1,
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    requestHandler: new NodeHttpHandler({
      requestTimeout: requestTimeoutMs,
      connectionTimeout: connectionTimeoutMs,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    }),
  });
}
