import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSubvolumeShow } from './subvolume-info';

/** Output of `btrfs subvolume show` captured from btrfs-progs 6.2 on a loop-mounted Btrfs. */
const fixture = (name: string) => readFileSync(join(__dirname, '__fixtures__', `show-${name}.txt`), 'utf8');

describe('parseSubvolumeShow', () => {
  it('reads "-" UUIDs of a subvolume created empty as null, and "Flags: -" as writable', () => {
    expect(parseSubvolumeShow('/mnt/data', fixture('plain-subvolume'))).toEqual({
      path: '/mnt/data',
      name: 'data',
      uuid: '69eaee25-a9b2-2b4a-9a58-71587824a40b',
      parentUuid: null,
      receivedUuid: null,
      readOnly: false,
      generation: 10,
      creationTime: '2026-11-25 12:33:42 +0000',
    });
  });

  it('reads a read-only snapshot: "Flags: readonly" and the source as parent UUID', () => {
    expect(parseSubvolumeShow('/mnt/snap1', fixture('readonly-snapshot'))).toMatchObject({
      name: 'snap1',
      uuid: '4b323f1a-1794-af4f-8166-9fc7b2ff905e',
      parentUuid: '69eaee25-a9b2-2b4a-9a58-71587824a40b',
      receivedUuid: null,
      readOnly: true,
    });
  });

  it('reads a received snapshot: Received UUID is the sent snapshot, and the path given is kept, not "r2/snap1"', () => {
    expect(parseSubvolumeShow('/backup/r2/snap1', fixture('received-snapshot'))).toEqual({
      path: '/backup/r2/snap1',
      name: 'snap1',
      uuid: '324d41a2-d6dd-8643-86f4-736d6716f66f',
      parentUuid: null,
      receivedUuid: '4b323f1a-1794-af4f-8166-9fc7b2ff905e',
      readOnly: true,
      generation: 20,
      creationTime: '2026-11-25 12:34:02 +0000',
    });
  });

  it('reads an incrementally received snapshot: its parent UUID is a local copy of the parent, not the sent snapshot', () => {
    expect(parseSubvolumeShow('/backup/r2/snap2', fixture('received-incremental'))).toMatchObject({
      uuid: 'fa63b307-1f2e-cb4d-a297-b66b83d4ed49',
      parentUuid: '3498698b-467c-5d41-a481-4515f5ab24d9',
      receivedUuid: '66cc3869-12cd-2b4c-a1e6-38479efa6a1d',
      generation: 20,
    });
  });

  it('reads the top-level subvolume, which btrfs-progs names <FS_TREE>', () => {
    expect(parseSubvolumeShow('/mnt', fixture('top-level'))).toMatchObject({ name: '<FS_TREE>', parentUuid: null, readOnly: false });
  });

  it('does not take snapshot-list entries for fields, even when a snapshot name looks like one', () => {
    const output = `${fixture('plain-subvolume')}\t\t\t\tName: evil\n`;
    expect(parseSubvolumeShow('/mnt/data', output).name).toBe('data');
  });

  it('names the missing field when the output is not what btrfs-progs 6 prints', () => {
    const output = fixture('plain-subvolume').replace(/\tGeneration:.*\n/, '');
    expect(() => parseSubvolumeShow('/mnt/data', output)).toThrow('no "Generation:" line in the output of btrfs subvolume show /mnt/data');
  });

  it('rejects a generation that is not a number', () => {
    const output = fixture('plain-subvolume').replace(/\tGeneration:.*\n/, '\tGeneration: \t\tseven\n');
    expect(() => parseSubvolumeShow('/mnt/data', output)).toThrow('btrfs subvolume show /mnt/data printed generation "seven"');
  });
});
