import { chunkKey, manifestKey, pointerKey } from './keys';
import { FormatError, parseManifest, parsePointer, serializeManifest, serializePointer } from './parse';
import { backup, H, manifest, manifestV1 } from '../__fixtures__/manifest';

const KEY = manifestKey(backup);

describe('S3 keys', () => {
  it('follows the SPEC layout', () => {
    expect(pointerKey('host1', 'data')).toBe('host1/subvol/data/current.json');
    expect(manifestKey(backup)).toBe('host1/subvol/data/inc/20261125T020000Z/manifest.json');
    expect(chunkKey(backup, 0)).toBe('host1/subvol/data/inc/20261125T020000Z/chunks/part-00000.bin');
    expect(chunkKey(backup, 12345)).toBe('host1/subvol/data/inc/20261125T020000Z/chunks/part-12345.bin');
  });
});

describe('manifest', () => {
  it('round-trips through serialize and parse', () => {
    expect(parseManifest(KEY, serializeManifest(manifest))).toEqual(manifest);
  });

  it('refuses an unknown version before anything else, naming the key', () => {
    expect(() => parseManifest('m.json', JSON.stringify({ ...manifest, version: 3 }))).toThrow(
      'manifest m.json has version 3; this btrfs-to-s3 reads version 1 and 2 only',
    );
    expect(() => parseManifest('m.json', JSON.stringify({ chunks: [] }))).toThrow('manifest m.json has version undefined');
  });

  it("reads version 1 into version 2's shape: nothing encoded, every plaintext fact in the clear", () => {
    expect(parseManifest(KEY, serializeManifest(manifestV1))).toEqual({ ...manifest, version: 1 });
  });

  it('refuses an encoding the private section or the sizes contradict', () => {
    const sealed = { ...manifest, private: { age: '-----BEGIN AGE ENCRYPTED FILE-----' } };
    expect(() => parseManifest(KEY, JSON.stringify(sealed))).toThrow('encoding.encryption is none, but the private section is sealed');
    const recipient = `age1${'q'.repeat(58)}`;
    const noRecipients = { ...sealed, encoding: { ...manifest.encoding, encryption: 'age' } };
    expect(() => parseManifest(KEY, JSON.stringify(noRecipients))).toThrow('encoding.recipients must list the age recipients');
    const stretched = {
      ...manifest,
      chunks: [
        { ...manifest.chunks[0], plain_size: 9 },
        { ...manifest.chunks[1], plain_size: 4 },
      ],
    };
    expect(() => parseManifest(KEY, JSON.stringify(stretched))).toThrow(/neither compressed nor encrypted, yet its size differs/);
    const compressed = { ...stretched, encoding: { ...manifest.encoding, compression: 'zstd' } };
    expect(parseManifest(KEY, JSON.stringify(compressed)).chunks[0]?.plain_size).toBe(9);
    const hashes = { ...manifest, private: { clear: { ...(manifest.private as { clear: object }).clear, chunk_sha256: [H('a')] } } };
    expect(() => parseManifest(KEY, JSON.stringify(hashes))).toThrow('private.clear.chunk_sha256 has 1 hashes for 2 chunks');
    const encrypted = { ...sealed, encoding: { compression: 'zstd', encryption: 'age', recipients: [recipient] } };
    expect(parseManifest(KEY, JSON.stringify(encrypted)).private).toEqual({ age: '-----BEGIN AGE ENCRYPTED FILE-----' });
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseManifest('m.json', '{"version":')).toThrow(FormatError);
    expect(() => parseManifest('m.json', '{"version":')).toThrow(/^manifest m\.json is not valid JSON/);
  });

  it('names malformed fields', () => {
    const bad = { ...manifest, chunks: [{ ...manifest.chunks[0], sha256: 'xyz' }] };
    expect(() => parseManifest('m.json', JSON.stringify(bad))).toThrow(
      /^manifest m\.json is malformed: chunks\.0\.sha256: must be a lowercase hex SHA-256/,
    );
    expect(() => parseManifest('m.json', JSON.stringify({ ...manifest, extra: 1 }))).toThrow(/malformed: extra: /);
  });

  it('refuses sizes that do not add up', () => {
    expect(() => parseManifest(KEY, JSON.stringify({ ...manifest, stored_bytes: 14 }))).toThrow(
      `manifest ${KEY} is malformed: chunk sizes sum to 13, stored_bytes is 14`,
    );
    expect(() => parseManifest(KEY, JSON.stringify({ ...manifest, total_bytes: 14 }))).toThrow(
      `manifest ${KEY} is malformed: chunk plain_size values sum to 13, total_bytes is 14`,
    );
    const parts = { ...manifest, chunks: [{ ...manifest.chunks[0], parts: [{ number: 1, size: 9, sha256: H('b') }] }, manifest.chunks[1]] };
    expect(() => parseManifest(KEY, JSON.stringify(parts))).toThrow(/parts of .*part-00000\.bin sum to 9, its size is 10/);
  });

  describe('refuses what the bucket must not be trusted with', () => {
    const chunk = manifest.chunks[1];
    if (chunk === undefined) throw new Error('fixture');
    const cases: [string, unknown, RegExp][] = [
      [
        'a snapshot name that climbs out of the target',
        { ...manifest, snapshot: { ...manifest.snapshot, name: '../../x' } },
        /snapshot\.name "\.\.\/\.\.\/x" is not of the form data__<UTC time>__inc/,
      ],
      [
        'a snapshot name with a slash in its subvolume part',
        { ...manifest, snapshot: { ...manifest.snapshot, name: 'a/../data__20261125T020000Z__inc' } },
        /is not of the form data__<UTC time>__inc/,
      ],
      [
        "another subvolume's snapshot name",
        { ...manifest, snapshot: { ...manifest.snapshot, name: 'home__20261125T020000Z__inc' } },
        /is not of the form data__<UTC time>__inc/,
      ],
      [
        'a snapshot name of the other kind',
        { ...manifest, snapshot: { ...manifest.snapshot, name: 'data__20261125T020000Z__full' } },
        /is not of the form data__<UTC time>__inc/,
      ],
      ['a subvolume that is a path', { ...manifest, subvolume: '../data' }, /subvolume "\.\.\/data" is not a subvolume name/],
      ['a subvolume with a newline', { ...manifest, subvolume: 'da\nta' }, /is not a subvolume name/],
      [
        'a chunk key under another prefix',
        { ...manifest, chunks: [manifest.chunks[0], { ...chunk, key: 'other/subvol/data/inc/20261125T020000Z/chunks/part-00001.bin' }] },
        /chunk key "other\/.*" is not under the manifest's own host1\/subvol\/data\/inc\/20261125T020000Z\/chunks\//,
      ],
      [
        'a chunk key that climbs out of its directory',
        { ...manifest, chunks: [manifest.chunks[0], { ...chunk, key: `${backup}/chunks/../../x.bin` }] },
        /is not under the manifest's own/,
      ],
      [
        'a part of 2^50 bytes',
        {
          ...manifest,
          chunks: [manifest.chunks[0], { ...chunk, size: 2 ** 50, parts: [{ number: 1, size: 2 ** 50, sha256: H('d') }] }],
          total_bytes: 10 + 2 ** 50,
        },
        /part 1 of .* is 1125899906842624 bytes; S3 parts are at most 5 GiB/,
      ],
      ['a part size over 5 GiB', { ...manifest, part_size: 6 * 1024 ** 3 }, /part_size 6442450944 exceeds S3's 5 GiB part limit/],
      [
        'parts out of order',
        {
          ...manifest,
          chunks: [{ ...manifest.chunks[0], parts: [...(manifest.chunks[0]?.parts ?? [])].reverse() }, chunk],
        },
        /are not numbered 1 to 2 in order/,
      ],
      [
        'more than 10,000 parts',
        {
          ...manifest,
          chunks: [
            manifest.chunks[0],
            {
              ...chunk,
              size: 10_001,
              parts: Array.from({ length: 10_001 }, (_, index) => ({ number: index + 1, size: 1, sha256: H('d') })),
            },
          ],
          total_bytes: 10 + 10_001,
        },
        /has 10001 parts; S3 allows 10000/,
      ],
    ];
    it.each(cases)('%s', (_name, tampered, message) => {
      expect(() => parseManifest(KEY, JSON.stringify(tampered))).toThrow(FormatError);
      expect(() => parseManifest(KEY, JSON.stringify(tampered))).toThrow(message);
    });
  });

  it('refuses to serialize an invalid manifest', () => {
    expect(() => serializeManifest({ ...manifest, total_bytes: -1 })).toThrow();
  });
});

describe('current.json pointer', () => {
  const pointer = {
    version: 1 as const,
    manifest_key: 'host1/subvol/data/inc/20261125T020000Z/manifest.json',
    kind: 'inc' as const,
    created_at: '2026-11-25T02:00:00.000Z',
  };

  it('round-trips', () => {
    expect(parsePointer('p', serializePointer(pointer))).toEqual(pointer);
  });

  it('names a malformed pointer', () => {
    expect(() => parsePointer('host1/subvol/data/current.json', JSON.stringify({ ...pointer, manifest_key: '' }))).toThrow(
      /^pointer host1\/subvol\/data\/current\.json is malformed: manifest_key: /,
    );
  });
});
