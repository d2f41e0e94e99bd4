import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, ListPartsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { FakeS3, s3Error } from './__fakes__/fake-s3';
import { listOpenUploads, uploadActivity } from './open-uploads';

const instant = { sleep: async () => undefined };
const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 2, minute));

describe('uploadActivity', () => {
  let fake: FakeS3;
  let clock: Date;
  beforeEach(() => {
    fake = new FakeS3();
    clock = at(0);
    fake.now = () => clock;
  });

  async function start(key: string): Promise<string> {
    const { UploadId } = await fake.send(new CreateMultipartUploadCommand({ Bucket: 'b', Key: key }));
    if (UploadId === undefined) throw new Error('no upload id');
    return UploadId;
  }
  const part = (key: string, uploadId: string, number: number) =>
    fake.send(
      new UploadPartCommand({ Bucket: 'b', Key: key, UploadId: uploadId, PartNumber: number, Body: Buffer.from(`part ${number}`) }),
    );

  it('dates each open upload by its newest part, every page of parts read, or by its start when it has none', async () => {
    fake.partsPageSize = 2;
    const busy = await start('p/data/full/1/chunks/part-00000.bin');
    clock = at(1);
    const idle = await start('p/data/full/1/chunks/part-00001.bin');
    for (const number of [1, 2, 3, 4, 5]) {
      clock = at(10 + number);
      await part('p/data/full/1/chunks/part-00000.bin', busy, number);
    }

    const activity = await uploadActivity(fake, 'b', await listOpenUploads(fake, 'b', 'p/', instant), instant);

    expect(activity).toEqual([
      { key: 'p/data/full/1/chunks/part-00000.bin', uploadId: busy, initiated: at(0), lastActivity: at(15) },
      { key: 'p/data/full/1/chunks/part-00001.bin', uploadId: idle, initiated: at(1), lastActivity: at(1) },
    ]);
    expect(fake.of(ListPartsCommand).filter((command) => command.input.UploadId === busy)).toHaveLength(3);
  });

  it('dates an upload that completes or is aborted between the listing and its ListParts as unknown (the caller takes it as now)', async () => {
    const gone = await start('p/a');
    const kept = await start('p/b');
    fake.hook = async (command) => {
      if (command instanceof ListPartsCommand && command.input.UploadId === gone)
        await fake.send(new AbortMultipartUploadCommand({ Bucket: 'b', Key: 'p/a', UploadId: gone }));
    };

    const activity = await uploadActivity(fake, 'b', await listOpenUploads(fake, 'b', 'p/', instant), instant);

    expect(activity.map((upload) => [upload.uploadId, upload.lastActivity])).toEqual([
      [gone, undefined],
      [kept, at(0)],
    ]);
  });

  it('dates an upload with an undated part as unknown', async () => {
    const id = await start('p/a');
    await part('p/a', id, 1);
    fake.listPartsFilter = (parts) => parts.map(({ LastModified: _dropped, ...rest }) => rest);

    const activity = await uploadActivity(fake, 'b', await listOpenUploads(fake, 'b', 'p/', instant), instant);

    expect(activity.map((upload) => upload.lastActivity)).toEqual([undefined]);
  });

  it('names the key when ListParts keeps failing', async () => {
    await start('p/a');
    fake.hook = (command) => {
      if (command instanceof ListPartsCommand) throw s3Error('InternalError', 500);
    };

    const listed = await listOpenUploads(fake, 'b', 'p/', instant);
    await expect(uploadActivity(fake, 'b', listed, { ...instant, attempts: 2 })).rejects.toThrow(/ListParts.*p\/a/);
  });
});
