import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { FakeS3, s3Error } from './__fakes__/fake-s3';
import { abortStaleMultipartUploads } from './stale-multipart';

const instant = { sleep: async () => undefined };

/** Starts an upload in the fake as if initiated at `initiated`. */
async function startUpload(fake: FakeS3, key: string, initiated: Date): Promise<string> {
  const { UploadId } = await fake.send(new CreateMultipartUploadCommand({ Bucket: 'backups', Key: key }));
  const upload = fake.uploads.get(UploadId ?? '');
  if (UploadId === undefined || upload === undefined) throw new Error('fake did not create the upload');
  fake.uploads.set(UploadId, { ...upload, initiated });
  return UploadId;
}

describe('abortStaleMultipartUploads', () => {
  const runStart = new Date('2025-01-02T02:00:00Z');
  const before = new Date('2025-01-01T02:00:00Z');
  const after = new Date('2025-01-02T02:00:01Z');

  it('aborts uploads under the prefix initiated before the cutoff and leaves newer and foreign ones', async () => {
    const fake = new FakeS3();
    const stale = await startUpload(fake, 'host/subvol/data/full/1/chunks/part-00000.bin', before);
    const fresh = await startUpload(fake, 'host/subvol/data/full/2/chunks/part-00000.bin', after);
    const foreign = await startUpload(fake, 'other-host/x.bin', before);

    const aborted = await abortStaleMultipartUploads(fake, 'backups', 'host/', runStart, instant);

    expect(aborted).toEqual([{ key: 'host/subvol/data/full/1/chunks/part-00000.bin', uploadId: stale, initiated: before }]);
    expect([...fake.uploads.keys()].sort()).toEqual([fresh, foreign].sort());
    expect(fake.of(ListMultipartUploadsCommand)[0]?.input).toMatchObject({ Bucket: 'backups', Prefix: 'host/' });
  });

  it("aborts from the caller's listing without listing again, and only what is under the prefix", async () => {
    const fake = new FakeS3();
    const stale = await startUpload(fake, 'host/subvol/data/full/1/chunks/part-00000.bin', before);
    const foreign = await startUpload(fake, 'other-host/x.bin', before);
    const listed = [
      { key: 'host/subvol/data/full/1/chunks/part-00000.bin', uploadId: stale, initiated: before },
      { key: 'other-host/x.bin', uploadId: foreign, initiated: before },
    ];

    const aborted = await abortStaleMultipartUploads(fake, 'backups', 'host/', runStart, instant, listed);

    expect(aborted.map((upload) => upload.uploadId)).toEqual([stale]);
    expect([...fake.uploads.keys()]).toEqual([foreign]);
    expect(fake.of(ListMultipartUploadsCommand)).toHaveLength(0);
  });

  it('lets a function pick the uploads to abort, from one listing', async () => {
    const fake = new FakeS3();
    const ours = await startUpload(fake, 'host/subvol/data/full/2/chunks/part-00000.bin', after);
    const theirs = await startUpload(fake, 'host/subvol/gone/full/2/chunks/part-00000.bin', after);

    const aborted = await abortStaleMultipartUploads(
      fake,
      'backups',
      'host/',
      (upload) => upload.key.startsWith('host/subvol/data/'),
      instant,
    );

    expect(aborted.map((upload) => upload.uploadId)).toEqual([ours]);
    expect([...fake.uploads.keys()]).toEqual([theirs]);
    expect(fake.of(ListMultipartUploadsCommand)).toHaveLength(1);
  });

  it('follows both pagination markers, so several uploads of one key across pages are all found', async () => {
    const fake = new FakeS3();
    fake.pageSize = 2;
    const key = 'host/subvol/data/inc/1/chunks/part-00000.bin';
    const ids = [
      await startUpload(fake, key, before),
      await startUpload(fake, key, before),
      await startUpload(fake, key, before),
      await startUpload(fake, `${key}.2`, before),
    ];

    const aborted = await abortStaleMultipartUploads(fake, 'backups', 'host/', runStart, instant);

    expect(aborted.map((upload) => upload.uploadId).sort()).toEqual([...ids].sort());
    expect(fake.uploads.size).toBe(0);
    expect(fake.of(ListMultipartUploadsCommand).map(({ input }) => [input.KeyMarker, input.UploadIdMarker])).toEqual([
      [undefined, undefined],
      [key, ids[1]],
    ]);
  });

  it('skips an upload that vanished before its abort instead of failing', async () => {
    const fake = new FakeS3();
    await startUpload(fake, 'host/a.bin', before);
    fake.hook = (command) => {
      if (command instanceof AbortMultipartUploadCommand) throw s3Error('NoSuchUpload', 404);
    };
    expect(await abortStaleMultipartUploads(fake, 'backups', 'host/', runStart, instant)).toEqual([]);
  });

  it('retries a throttled listing and names the prefix when listing keeps failing', async () => {
    const fake = new FakeS3();
    await startUpload(fake, 'host/a.bin', before);
    let listings = 0;
    fake.hook = (command) => {
      if (command instanceof ListMultipartUploadsCommand && listings++ === 0) throw s3Error('SlowDown', 503);
    };
    expect(await abortStaleMultipartUploads(fake, 'backups', 'host/', runStart, instant)).toHaveLength(1);

    fake.hook = (command) => {
      if (command instanceof ListMultipartUploadsCommand) throw s3Error('AccessDenied', 403);
    };
    await expect(abortStaleMultipartUploads(fake, 'backups', 'host/', runStart, instant)).rejects.toThrow(
      'S3 ListMultipartUploads s3://…/host/ failed: AccessDenied (HTTP 403)',
    );
  });
});
