import { GiB, MiB, parseConfig, TiB } from '@org/btrfs-s3-core';
import { Readable } from 'node:stream';
import { FakeS3, upload } from '../__fakes__/upload-harness';
import { UploadLimitError } from './errors';
import { resolveLayout, uploadOptionsFromConfig } from './limits';

describe('resolveLayout', () => {
  it('defaults to 200 GiB chunks of 128 MiB parts, 4 in flight', () => {
    expect(resolveLayout({})).toEqual({ chunkSizeBytes: 200 * GiB, partSizeBytes: 128 * MiB, concurrency: 4 });
  });

  it('rejects parts below 5 MiB or above 5 GiB, naming s3.part_size_bytes', () => {
    expect(() => resolveLayout({ partSizeBytes: 5 * MiB - 1 })).toThrow(
      /s3\.part_size_bytes must be an integer from 5242880 to 5368709120, got 5242879/,
    );
    expect(() => resolveLayout({ partSizeBytes: 5 * GiB + 1 })).toThrow(/s3\.part_size_bytes/);
    expect(() => resolveLayout({ partSizeBytes: 5 * MiB + 0.5 })).toThrow(/s3\.part_size_bytes/);
    expect(resolveLayout({ partSizeBytes: 5 * MiB, chunkSizeBytes: GiB }).partSizeBytes).toBe(5 * MiB);
  });

  it('rejects a chunk that needs more than 10,000 parts', () => {
    expect(() => resolveLayout({ partSizeBytes: 5 * MiB, chunkSizeBytes: 10_000 * 5 * MiB + 1 })).toThrow(/needs more than 10000 parts/);
    expect(resolveLayout({ partSizeBytes: 5 * MiB, chunkSizeBytes: 10_000 * 5 * MiB }).chunkSizeBytes).toBe(10_000 * 5 * MiB);
    // Encoded, the same chunk may store a little more than it holds: it must fit too.
    expect(() => resolveLayout({ partSizeBytes: 5 * MiB, chunkSizeBytes: 10_000 * 5 * MiB }, true)).toThrow(
      /needs more than 10000 parts .* once compressed or encrypted/,
    );
    expect(resolveLayout({ partSizeBytes: 5 * MiB, chunkSizeBytes: 9_990 * 5 * MiB }, true).chunkSizeBytes).toBe(9_990 * 5 * MiB);
  });

  it('rejects a chunk larger than the configured maximum object size', () => {
    expect(() => resolveLayout({ chunkSizeBytes: 6 * TiB })).toThrow(
      /s3\.chunk_size_bytes \(6597069766656\) exceeds s3\.max_object_size_bytes \(5497558138880\)/,
    );
    expect(resolveLayout({ chunkSizeBytes: 6 * TiB, partSizeBytes: 1 * GiB, maxObjectSizeBytes: 48 * TiB }).chunkSizeBytes).toBe(6 * TiB);
  });

  it('rejects concurrency outside 1..64 and a spool smaller than one part', () => {
    expect(() => resolveLayout({ concurrency: 0 })).toThrow(/s3\.concurrency/);
    expect(() => resolveLayout({ concurrency: 65 })).toThrow(/s3\.concurrency/);
    expect(() => resolveLayout({ spool: { dir: '/var/tmp/spool', maxBytes: 64 * MiB } })).toThrow(
      /global\.spool_size_bytes must be at least one part \(134217728 bytes\)/,
    );
  });

  it('reports every problem at once with the usage exit code', () => {
    let caught: unknown;
    try {
      resolveLayout({ partSizeBytes: 1, concurrency: 0, chunkSizeBytes: -1 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UploadLimitError);
    expect(caught).toMatchObject({
      exitCode: 2,
      problems: [expect.stringMatching(/part_size/), expect.stringMatching(/chunk_size/), expect.stringMatching(/concurrency/)],
    });
  });

  it('accepts smaller limits through options, as tests with byte-sized parts need', () => {
    expect(resolveLayout({ partSizeBytes: 4, chunkSizeBytes: 10, limits: { minPartSizeBytes: 1 } })).toMatchObject({
      partSizeBytes: 4,
      chunkSizeBytes: 10,
    });
    expect(() => resolveLayout({ partSizeBytes: 4, chunkSizeBytes: 13, limits: { minPartSizeBytes: 1, maxPartsPerObject: 3 } })).toThrow(
      /needs more than 3 parts/,
    );
  });
});

describe('limits before any work', () => {
  it('neither reads the source nor calls S3 when the settings are invalid', async () => {
    const fake = new FakeS3();
    const read = jest.fn();
    await expect(upload(fake, new Readable({ read }), { partSizeBytes: 4, limits: { minPartSizeBytes: 5 } })).rejects.toThrow(
      UploadLimitError,
    );
    expect(fake.commands).toEqual([]);
    expect(read).not.toHaveBeenCalled();
  });
});

describe('uploadOptionsFromConfig', () => {
  const config = (extra: string) =>
    parseConfig(`
[global]
spool_dir = "/var/tmp/spool"
spool_size_bytes = 1073741824
[snapshots]
base_dir = "/srv/.snapshots"
[subvolumes]
paths = ["/srv/data"]
[s3]
bucket = "my-backups"
region = "eu-west-1"
prefix = "host"
chunk_size_bytes = 1073741824
part_size_bytes = 16777216
concurrency = 3
${extra}
`);

  it('maps the [s3] sizes and concurrency, without a spool unless s3.spool_enabled', () => {
    expect(uploadOptionsFromConfig(config(''))).toEqual({
      chunkSizeBytes: GiB,
      partSizeBytes: 16 * MiB,
      concurrency: 3,
      maxObjectSizeBytes: 5 * TiB,
    });
  });

  it('adds the spool from [global] when s3.spool_enabled', () => {
    expect(uploadOptionsFromConfig(config('spool_enabled = true')).spool).toEqual({ dir: '/var/tmp/spool', maxBytes: GiB });
  });
});
