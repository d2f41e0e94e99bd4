import { chunkKey, manifestKey, pointerKey } from './keys';
import { FormatError, parseManifest, parsePointer, serializeManifest, serializePointer } from './parse';
import { backup, H, manifest } from '../__fixtures__/manifest';

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
    expect(parseManifest('k', serializeManifest(manifest))).toEqual(manifest);
  });

  it('refuses an unknown version before anything else, naming the key', () => {
    expect(() => parseManifest('m.json', JSON.stringify({ ...manifest, version: 2 }))).toThrow(
      'manifest m.json has version 2; this btrfs-to-s3 reads version 1 only',
    );
    expect(() => parseManifest('m.json', JSON.stringify({ chunks: [] }))).toThrow('manifest m.json has version undefined');
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
    expect(() => parseManifest('m.json', JSON.stringify({ ...manifest, total_bytes: 14 }))).toThrow(
      'manifest m.json is malformed: chunk sizes sum to 13, total_bytes is 14',
    );
    const parts = { ...manifest, chunks: [{ ...manifest.chunks[0], parts: [{ number: 1, size: 9, sha256: H('b') }] }, manifest.chunks[1]] };
    expect(() => parseManifest('m.json', JSON.stringify(parts))).toThrow(/parts of .*part-00000\.bin sum to 9, its size is 10/);
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
