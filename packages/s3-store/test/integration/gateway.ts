import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parseConfig } from '@org/btrfs-s3-core';
import { testGateway } from '@org/testenv';
import { randomUUID } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { createS3Client } from '../../src/client';
import { abortStaleMultipartUploads } from '../../src/stale-multipart';

/** The `[s3]` config of the test gateway, parsed like a user's file. */
export function gatewayS3Config() {
  const gateway = testGateway();
  return parseConfig(`
[snapshots]
base_dir = "/unused/.snapshots"
[subvolumes]
paths = ["/unused/data"]
[s3]
bucket = "${gateway.bucket}"
region = "${gateway.region}"
prefix = "it"
endpoint = "${gateway.endpoint}"
path_style = true
checksum_mode = "when_required"
`).s3;
}

/** A client and a key prefix of the test's own, emptied (objects and uploads) by `cleanup`. */
export function gatewayScope(name: string) {
  const s3 = gatewayS3Config();
  const client = createS3Client(s3);
  const prefix = `it/${name}-${randomUUID()}/`;
  return {
    s3,
    client,
    bucket: s3.bucket,
    prefix,
    async cleanup() {
      try {
        await abortStaleMultipartUploads(client, s3.bucket, prefix, new Date(Date.now() + 3_600_000));
        await deleteUnder(client, s3.bucket, prefix);
      } finally {
        client.destroy();
      }
    },
  };
}

async function deleteUnder(client: S3Client, bucket: string, prefix: string): Promise<void> {
  const listing = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const objects = (listing.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [{ Key: object.Key }]));
  if (objects.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
}

export async function getBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!(response.Body instanceof Readable)) throw new Error('GetObject body is not a Node stream');
  return buffer(response.Body);
}

export async function incompleteUploads(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const listing = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (listing.Uploads ?? []).map((upload) => upload.Key ?? '');
}

/** Delivers `data` in pipe-sized reads, like `btrfs send` stdout. */
export function streamOf(data: Buffer, readSize = 64 * 1024): Readable {
  async function* reads() {
    for (let offset = 0; offset < data.length; offset += readSize) yield data.subarray(offset, offset + readSize);
  }
  return Readable.from(reads(), { objectMode: false });
}
