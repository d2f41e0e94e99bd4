import { MiB } from '@org/btrfs-s3-core';
import { randomUUID } from 'node:crypto';
import { type BucketClient, FakeS3Bucket } from '../../src/testing';
import { gatewayScope } from './gateway';

/**
 * Where a store departs from AWS S3. The fake follows S3 in each; the gateway's values
 * are what Ceph RGW 16.2 was seen to answer.
 */
export interface Quirks {
  /** The error name ListParts gives, with 404, for an upload that was aborted: S3 says NoSuchUpload, RGW NoSuchKey. */
  readonly listPartsOfAbortedUpload: 'NoSuchUpload' | 'NoSuchKey';
  /** Whether CompleteMultipartUpload's answer carries the object's ETag: RGW answers "" (HeadObject has it). */
  readonly completeAnswersEtag: boolean;
}

const AWS_S3: Quirks = { listPartsOfAbortedUpload: 'NoSuchUpload', completeAnswersEtag: true };
const CEPH_RGW: Quirks = { listPartsOfAbortedUpload: 'NoSuchKey', completeAnswersEtag: false };

/** One store the conformance cases run against, under a key prefix of this run's own. */
export interface Target {
  readonly client: BucketClient;
  readonly bucket: string;
  readonly prefix: string;
  readonly quirks: Quirks;
  /** Aborts the uploads and deletes the objects under `prefix`. */
  cleanup(): Promise<void>;
}

export function fakeTarget(): Target {
  const fake = new FakeS3Bucket();
  // S3's part minimum: the fake checks it only when told to, since unit tests upload byte-sized parts.
  fake.multipart.minPartSizeBytes = 5 * MiB;
  return {
    client: fake,
    bucket: 'conformance',
    prefix: `conformance-${randomUUID()}/`,
    quirks: AWS_S3,
    cleanup: async () => {
      fake.objects.clear();
      fake.uploads.clear();
    },
  };
}

export function gatewayTarget(): Target {
  const scope = gatewayScope('conformance');
  return { client: scope.client, bucket: scope.bucket, prefix: scope.prefix, quirks: CEPH_RGW, cleanup: () => scope.cleanup() };
}

/** What `promise` rejected with; fails the test if it resolved. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (reason: unknown) => reason,
  );
}
