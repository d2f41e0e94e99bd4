import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListPartsCommand,
  type ListPartsCommandOutput,
  NoSuchKey,
  NoSuchUpload,
  NotFound,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { MiB } from '@org/btrfs-s3-core';
import { createHash } from 'node:crypto';
import { fakeTarget, gatewayTarget, rejection, type Target } from './conformance-targets';

const md5 = (bytes: Buffer | string) => createHash('md5').update(bytes).digest();
const quotedMd5 = (bytes: Buffer | string) => `"${md5(bytes).toString('hex')}"`;
/** At most this many pages: a store that never stops truncating fails the test instead of hanging it. */
const MAX_PAGES = 10;

// One suite, two stores: whatever the fake answers here, the real gateway answered too.
describe.each([
  ['the fake bucket', fakeTarget],
  ['the Ceph gateway', gatewayTarget],
])('S3 conformance: %s', (_name, makeTarget) => {
  let target: Target;
  beforeAll(() => {
    target = makeTarget();
  });
  afterAll(() => target.cleanup());

  const put = (key: string, body: string) => target.client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body }));

  async function listPages(prefix: string, first: { MaxKeys?: number; StartAfter?: string }): Promise<ListObjectsV2CommandOutput[]> {
    const pages: ListObjectsV2CommandOutput[] = [];
    let token: string | undefined;
    do {
      const input = { Bucket: target.bucket, Prefix: prefix, ...first, ...(token === undefined ? {} : { ContinuationToken: token }) };
      const page = await target.client.send(new ListObjectsV2Command(input));
      pages.push(page);
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined && pages.length < MAX_PAGES);
    return pages;
  }

  async function startUpload(key: string): Promise<string> {
    const { UploadId } = await target.client.send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: key }));
    if (UploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId');
    return UploadId;
  }

  async function uploadParts(key: string, uploadId: string, bodies: readonly Buffer[]): Promise<string[]> {
    const etags: string[] = [];
    for (const [index, body] of bodies.entries()) {
      const { ETag } = await target.client.send(
        new UploadPartCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: body }),
      );
      etags.push(ETag ?? '');
    }
    return etags;
  }

  const completeWith = (key: string, uploadId: string, etags: readonly string[]) => {
    const Parts = etags.map((ETag, index) => ({ PartNumber: index + 1, ETag }));
    return target.client.send(
      new CompleteMultipartUploadCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts } }),
    );
  };

  it('lists five keys two at a time in UTF-8 byte order, each once, with KeyCount, IsTruncated and continuation tokens', async () => {
    const prefix = `${target.prefix}list/`;
    // UTF-16 order (JavaScript's sort) would put U+1F600 before U+FFFD; S3 compares UTF-8 bytes.
    const ordered = ['A', 'z', 'é', '\u{FFFD}', '\u{1F600}'].map((name) => `${prefix}${name}`);
    for (const key of [ordered[3], ordered[0], ordered[4], ordered[2], ordered[1]]) await put(key ?? '', `body of ${key}`);

    const pages = await listPages(prefix, { MaxKeys: 2 });

    expect(pages.map((page) => (page.Contents ?? []).map((object) => object.Key))).toEqual([
      ordered.slice(0, 2),
      ordered.slice(2, 4),
      ordered.slice(4),
    ]);
    expect(pages.map((page) => [page.KeyCount, page.MaxKeys, page.IsTruncated, page.NextContinuationToken !== undefined])).toEqual([
      [2, 2, true, true],
      [2, 2, true, true],
      [1, 2, false, false],
    ]);
    expect(pages.slice(1).map((page) => page.ContinuationToken)).toEqual(pages.slice(0, 2).map((page) => page.NextContinuationToken));
    const listed = pages.flatMap((page) => page.Contents ?? []);
    expect(listed.map((object) => [object.Size, object.ETag, object.StorageClass])).toEqual(
      ordered.map((key) => [Buffer.byteLength(`body of ${key}`), quotedMd5(`body of ${key}`), 'STANDARD']),
    );
  });

  it('lists after StartAfter, lets a continuation token override StartAfter, and lists an empty prefix as KeyCount 0 without Contents', async () => {
    const prefix = `${target.prefix}start-after/`;
    const keys = ['a', 'b', 'c', 'd', 'e'].map((name) => `${prefix}${name}`);
    for (const key of keys) await put(key, 'x');

    const afterB = await listPages(prefix, { StartAfter: keys[1] });
    const [first] = await listPages(prefix, { MaxKeys: 2 });
    const overridden = await target.client.send(
      new ListObjectsV2Command({
        Bucket: target.bucket,
        Prefix: prefix,
        MaxKeys: 2,
        StartAfter: keys[3],
        ContinuationToken: first?.NextContinuationToken,
      }),
    );
    const empty = await target.client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: `${prefix}nothing-here/` }));

    expect(afterB.flatMap((page) => (page.Contents ?? []).map((object) => object.Key))).toEqual(keys.slice(2));
    expect(afterB[0]?.StartAfter).toBe(keys[1]);
    expect((overridden.Contents ?? []).map((object) => object.Key)).toEqual(keys.slice(2, 4));
    expect(empty).toMatchObject({ KeyCount: 0, IsTruncated: false });
    expect(empty.Contents).toBeUndefined();
    expect(empty.NextContinuationToken).toBeUndefined();
  });

  it('lists five parts two at a time with PartNumberMarker and NextPartNumberMarker, each with its size, MD5 ETag and LastModified', async () => {
    const key = `${target.prefix}parts/object`;
    const uploadId = await startUpload(key);
    // Parts under 5 MiB are accepted until Complete, so a listing needs no big bodies.
    const bodies = [1, 2, 3, 4, 5].map((number) => Buffer.from(`part ${number} `.repeat(number)));
    const etags = await uploadParts(key, uploadId, bodies);

    const pages: ListPartsCommandOutput[] = [];
    let marker: string | undefined;
    do {
      const page = await target.client.send(
        new ListPartsCommand({
          Bucket: target.bucket,
          Key: key,
          UploadId: uploadId,
          MaxParts: 2,
          ...(marker === undefined ? {} : { PartNumberMarker: marker }),
        }),
      );
      pages.push(page);
      marker = page.IsTruncated === true ? page.NextPartNumberMarker : undefined;
    } while (marker !== undefined && pages.length < MAX_PAGES);

    expect(etags).toEqual(bodies.map(quotedMd5));
    expect(pages.map((page) => (page.Parts ?? []).map((part) => part.PartNumber))).toEqual([[1, 2], [3, 4], [5]]);
    expect(pages.map((page) => [page.MaxParts, page.IsTruncated, page.NextPartNumberMarker])).toEqual([
      [2, true, '2'],
      [2, true, '4'],
      [2, false, '5'],
    ]);
    expect(pages.map((page) => page.PartNumberMarker)).toEqual(['0', '2', '4']);
    expect(pages.flatMap((page) => (page.Parts ?? []).map((part) => [part.Size, part.ETag]))).toEqual(
      bodies.map((body) => [body.length, quotedMd5(body)]),
    );
    // Prune dates an open upload by its newest part: each part carries when it arrived, in upload order.
    const times = pages.flatMap((page) => (page.Parts ?? []).map((part) => part.LastModified?.getTime() ?? Number.NaN));
    expect(times.every((time, index) => Number.isFinite(time) && time >= (times[index - 1] ?? 0))).toBe(true);
  });

  it('lists five uploads two at a time by key with both markers, each upload once, three of one key across pages', async () => {
    const prefix = `${target.prefix}uploads/`;
    const started: Array<[string, string]> = [];
    for (const name of ['b', 'a', 'a', 'c', 'a']) started.push([`${prefix}${name}`, await startUpload(`${prefix}${name}`)]);

    const pages: ListMultipartUploadsCommandOutput[] = [];
    let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
    do {
      const page = await target.client.send(
        new ListMultipartUploadsCommand({ Bucket: target.bucket, Prefix: prefix, MaxUploads: 2, ...markers }),
      );
      pages.push(page);
      markers = page.IsTruncated === true ? { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker } : {};
    } while (markers.KeyMarker !== undefined && pages.length < MAX_PAGES);

    const listed = pages.flatMap((page) =>
      (page.Uploads ?? []).map((upload): [string, string] => [upload.Key ?? '', upload.UploadId ?? '']),
    );
    // S3 orders one key's uploads by initiation, RGW by upload id: only the key order is common.
    expect(listed.map(([key]) => key)).toEqual(['a', 'a', 'a', 'b', 'c'].map((name) => `${prefix}${name}`));
    expect([...listed].sort()).toEqual([...started].sort());
    expect(pages.map((page) => [page.Uploads?.length, page.MaxUploads, page.IsTruncated])).toEqual([
      [2, 2, true],
      [2, 2, true],
      [1, 2, false],
    ]);
    for (const page of pages.filter((each) => each.IsTruncated === true)) {
      expect([page.NextKeyMarker, page.NextUploadIdMarker]).toEqual([page.Uploads?.at(-1)?.Key, page.Uploads?.at(-1)?.UploadId]);
    }
  });

  it('answers HeadObject of a missing key with 404 NotFound and GetObject with 404 NoSuchKey', async () => {
    const key = `${target.prefix}missing/object`;

    const head = await rejection(target.client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key })));
    const get = await rejection(target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key })));

    expect(head).toBeInstanceOf(NotFound);
    expect(head).toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    expect(get).toBeInstanceOf(NoSuchKey);
    expect(get).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  });

  it('reads a whole object with 200, a range running past the end clamped with 206, and refuses a range past the end with 416 InvalidRange', async () => {
    const key = `${target.prefix}ranges/abc`;
    await put(key, 'abc');
    const get = (Range?: string) =>
      target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key, ...(Range === undefined ? {} : { Range }) }));

    const whole = await get();
    const clamped = await get('bytes=1-99');
    const suffix = await get('bytes=-2');
    const beyond = await rejection(get('bytes=3-9'));

    expect([whole.$metadata.httpStatusCode, whole.ContentRange, await whole.Body?.transformToString()]).toEqual([200, undefined, 'abc']);
    const clampedBody = await clamped.Body?.transformToString();
    expect([clamped.$metadata.httpStatusCode, clamped.ContentRange, clamped.ContentLength, clampedBody]).toEqual([
      206,
      'bytes 1-2/3',
      2,
      'bc',
    ]);
    expect([suffix.ContentRange, await suffix.Body?.transformToString()]).toEqual(['bytes 1-2/3', 'bc']);
    expect(beyond).toBeInstanceOf(S3ServiceException);
    expect(beyond).toMatchObject({ name: 'InvalidRange', $metadata: { httpStatusCode: 416 } });
  });

  it("refuses PutObject with IfNoneMatch '*' on an existing key with 412 PreconditionFailed and keeps the first object", async () => {
    const key = `${target.prefix}conditional/once`;
    const putOnce = (body: string) =>
      target.client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, IfNoneMatch: '*' }));

    const first = await putOnce('first');
    const second = await rejection(putOnce('second'));
    const stored = await target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));

    expect(first.ETag).toBe(quotedMd5('first'));
    expect(second).toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    expect(await stored.Body?.transformToString()).toBe('first');
  });

  it('reports an existing and a missing key both as Deleted by DeleteObjects with no Errors, and neither in quiet mode', async () => {
    const [present, absent, quietPresent] = ['present', 'absent', 'quiet'].map((name) => `${target.prefix}delete/${name}`);
    for (const key of [present, quietPresent]) await put(key ?? '', 'x');
    const remove = (keys: Array<string | undefined>, Quiet: boolean) =>
      target.client.send(new DeleteObjectsCommand({ Bucket: target.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet } }));

    const loud = await remove([present, absent], false);
    const quiet = await remove([quietPresent, absent], true);
    const listing = await target.client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: `${target.prefix}delete/` }));

    expect((loud.Deleted ?? []).map((deleted) => deleted.Key).sort()).toEqual([present, absent].sort());
    expect(loud.Errors).toBeUndefined();
    expect([quiet.Deleted, quiet.Errors]).toEqual([undefined, undefined]);
    expect(listing.KeyCount).toBe(0);
  });

  it('completes an upload from its part list into one object with ETag "<md5 of the part MD5s>-2" and the parts\' bytes', async () => {
    const key = `${target.prefix}complete/object`;
    const bodies = [Buffer.alloc(5 * MiB, 7), Buffer.from('tail')];
    const uploadId = await startUpload(key);
    const etags = await uploadParts(key, uploadId, bodies);
    const expected = `"${createHash('md5')
      .update(Buffer.concat(bodies.map((body) => md5(body))))
      .digest('hex')}-2"`;

    const completed = await completeWith(key, uploadId, etags);
    const head = await target.client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }));
    const stored = await target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
    const uploads = await target.client.send(new ListMultipartUploadsCommand({ Bucket: target.bucket, Prefix: key }));

    expect(completed.ETag).toBe(target.quirks.completeAnswersEtag ? expected : '');
    expect([head.ETag, head.ContentLength]).toEqual([expected, 5 * MiB + 4]);
    expect(Buffer.from((await stored.Body?.transformToByteArray()) ?? []).equals(Buffer.concat(bodies))).toBe(true);
    expect(uploads.Uploads).toBeUndefined();
  });

  it('refuses Complete with 400 EntityTooSmall when a part other than the last is under 5 MiB', async () => {
    const key = `${target.prefix}too-small/object`;
    const uploadId = await startUpload(key);
    const etags = await uploadParts(key, uploadId, [Buffer.from('small'), Buffer.from('tail')]);

    const refused = await rejection(completeWith(key, uploadId, etags));

    expect(refused).toMatchObject({ name: 'EntityTooSmall', $metadata: { httpStatusCode: 400 } });
    expect(await rejection(target.client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key })))).toBeInstanceOf(NotFound);
  });

  it("refuses Complete with 400 InvalidPart when a listed ETag is not the stored part's", async () => {
    const key = `${target.prefix}wrong-etag/object`;
    const uploadId = await startUpload(key);
    await uploadParts(key, uploadId, [Buffer.from('only part')]);

    const refused = await rejection(completeWith(key, uploadId, [quotedMd5('other bytes')]));

    expect(refused).toMatchObject({ name: 'InvalidPart', $metadata: { httpStatusCode: 400 } });
  });

  it('forgets an aborted upload: ListParts answers 404 and a second abort 404 NoSuchUpload', async () => {
    const key = `${target.prefix}aborted/object`;
    const uploadId = await startUpload(key);
    await uploadParts(key, uploadId, [Buffer.from('part')]);
    const abort = () => target.client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId }));

    await abort();
    const listed = await rejection(target.client.send(new ListPartsCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId })));
    const again = await rejection(abort());

    expect(listed).toMatchObject({ name: target.quirks.listPartsOfAbortedUpload, $metadata: { httpStatusCode: 404 } });
    expect(again).toBeInstanceOf(NoSuchUpload);
    expect(again).toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('reports a plain bucket as never versioned (no Status) and without Object Lock (404 ObjectLockConfigurationNotFoundError)', async () => {
    const versioning = await target.client.send(new GetBucketVersioningCommand({ Bucket: target.bucket }));
    const objectLock = await rejection(target.client.send(new GetObjectLockConfigurationCommand({ Bucket: target.bucket })));

    expect(versioning.Status).toBeUndefined();
    expect(objectLock).toMatchObject({ name: 'ObjectLockConfigurationNotFoundError', $metadata: { httpStatusCode: 404 } });
  });
});
