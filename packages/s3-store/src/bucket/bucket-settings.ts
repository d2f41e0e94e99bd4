import {
  GetBucketVersioningCommand,
  type GetBucketVersioningCommandOutput,
  GetObjectLockConfigurationCommand,
  type GetObjectLockConfigurationCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { S3StoreError } from '../object-store';
import { type RetryOptions, withRetry } from '../retry';
import { describeS3Error, isS3Error } from '../s3-errors';
import type { SendOptions } from '../upload/types';

/** The calls `readBucketSettings` and `probeListing` make; an S3Client satisfies it. */
export interface SettingsClient {
  send(command: GetBucketVersioningCommand, options?: SendOptions): Promise<GetBucketVersioningCommandOutput>;
  send(command: GetObjectLockConfigurationCommand, options?: SendOptions): Promise<GetObjectLockConfigurationCommandOutput>;
  send(command: ListObjectsV2Command, options?: SendOptions): Promise<ListObjectsV2CommandOutput>;
}

/** A bucket's default Object Lock retention, as the store reports it. */
export interface DefaultRetention {
  readonly mode: string;
  readonly days?: number;
  readonly years?: number;
}

/** What a setting read returned, or why it could not be read (e.g. AccessDenied). */
export type SettingRead<T> = { readonly value: T } | { readonly unreadable: string };

/** The bucket settings that change what a backup's deletes do. */
export interface BucketSettings {
  /** `Off`: never enabled. In a versioned bucket a delete leaves a noncurrent version, still stored and billed. */
  readonly versioning: SettingRead<'Enabled' | 'Suspended' | 'Off'>;
  /** Object Lock (which needs versioning), with its default retention when one is set. */
  readonly objectLock: SettingRead<{ readonly enabled: boolean; readonly defaultRetention?: DefaultRetention }>;
}

/** When a listing request was sent and answered, and the store's clock (its `Date` header) in between. */
export interface ListingProbe {
  readonly sentAt: Date;
  readonly answeredAt: Date;
  /** Absent when the response carried no parsable `Date` header. */
  readonly serverDate?: Date;
}

/** Reads versioning alone (one request); one the credential may not read is reported, not thrown. */
export function readVersioning(client: SettingsClient, bucket: string, options: RetryOptions = {}): Promise<BucketSettings['versioning']> {
  return readSetting(async () => {
    const output = await withRetry(
      () => client.send(new GetBucketVersioningCommand({ Bucket: bucket }), { abortSignal: options.signal }),
      options,
    );
    return output.Status ?? 'Off';
  });
}

/** Reads versioning and Object Lock; a setting the credential may not read is reported, not thrown. */
export async function readBucketSettings(client: SettingsClient, bucket: string, options: RetryOptions = {}): Promise<BucketSettings> {
  const request = { abortSignal: options.signal };
  const versioning = await readVersioning(client, bucket, options);
  const objectLock = await readSetting(async () => {
    try {
      const output = await withRetry(() => client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }), request), options);
      const configuration = output.ObjectLockConfiguration;
      const retention = configuration?.Rule?.DefaultRetention;
      return {
        enabled: configuration?.ObjectLockEnabled === 'Enabled',
        ...(retention?.Mode === undefined
          ? {}
          : {
              defaultRetention: {
                mode: retention.Mode,
                ...(retention.Days === undefined ? {} : { days: retention.Days }),
                ...(retention.Years === undefined ? {} : { years: retention.Years }),
              },
            }),
      };
    } catch (error) {
      // S3's answer for a bucket created without Object Lock.
      if (isS3Error(error, 'ObjectLockConfigurationNotFoundError')) return { enabled: false };
      throw error;
    }
  });
  return { versioning, objectLock };
}

async function readSetting<T>(read: () => Promise<T>): Promise<SettingRead<T>> {
  try {
    return { value: await read() };
  } catch (error) {
    return { unreadable: describeS3Error(error) };
  }
}

/**
 * Lists at most one key under `prefix`: proof that the credential may list there, and
 * the store's clock from the response's `Date` header (a command-level middleware reads
 * it; the SDK's output does not carry headers). Throws S3StoreError when the listing fails.
 */
export async function probeListing(
  client: SettingsClient,
  bucket: string,
  prefix: string,
  options: RetryOptions = {},
): Promise<ListingProbe> {
  let date: string | undefined;
  const command = new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 });
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      date = dateHeader(result.response);
      return result;
    },
    { step: 'deserialize', name: 'btrfsToS3ServerDate' },
  );
  const sentAt = new Date();
  try {
    await withRetry(() => client.send(command, { abortSignal: options.signal }), options);
  } catch (error) {
    throw new S3StoreError('ListObjectsV2', prefix, error);
  }
  const answeredAt = new Date();
  const serverDate = date === undefined ? undefined : new Date(date);
  return { sentAt, answeredAt, ...(serverDate === undefined || Number.isNaN(serverDate.getTime()) ? {} : { serverDate }) };
}

function dateHeader(response: unknown): string | undefined {
  if (typeof response !== 'object' || response === null || !('headers' in response)) return undefined;
  const headers = response.headers;
  if (typeof headers !== 'object' || headers === null || !('date' in headers)) return undefined;
  return typeof headers.date === 'string' ? headers.date : undefined;
}
