import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../exit-codes';
import { emptyState, type State } from './schema';
import { readState, StateError, writeState } from './store';

const state: State = {
  version: 1,
  last_run_at: '2026-11-25T02:10:00.000Z',
  subvolumes: {
    data: {
      last_snapshot: 'data__20261125T020000Z__inc',
      last_manifest: 'host/subvol/data/inc/20261125T020000Z/manifest.json',
      last_kind: 'inc',
      last_backup_at: '2026-11-25T02:00:00.000Z',
      last_full_at: '2026-06-01T02:00:00.000Z',
    },
  },
};

describe('state file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'state-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads a missing file as the empty state of a first run', async () => {
    await expect(readState(join(dir, 'state.json'))).resolves.toEqual(emptyState());
  });

  it('round-trips through an atomic write, creating the directory, leaving no temp files', async () => {
    const path = join(dir, 'nested', 'state.json');
    await writeState(path, state);
    await expect(readState(path)).resolves.toEqual(state);
    expect(await readdir(join(dir, 'nested'))).toEqual(['state.json']);
    await writeState(path, { ...state, last_run_at: null });
    expect(JSON.parse(await readFile(path, 'utf8')).last_run_at).toBeNull();
  });

  it('refuses a corrupt file with an error naming it, never resetting it', async () => {
    const path = join(dir, 'state.json');
    await writeFile(path, '{"version": 1, "subvol');
    const attempt = readState(path);
    await expect(attempt).rejects.toThrow(StateError);
    await expect(attempt).rejects.toThrow(`state file ${path} is corrupt (not JSON`);
    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Fatal, corruption: expect.stringMatching(/^not JSON: /) });
    expect(await readFile(path, 'utf8')).toBe('{"version": 1, "subvol');
  });

  it('refuses valid JSON of the wrong shape, naming the bad field', async () => {
    const path = join(dir, 'state.json');
    await writeFile(path, JSON.stringify({ ...state, subvolumes: { data: { ...state.subvolumes.data, last_kind: 'diff' } } }));
    await expect(readState(path)).rejects.toThrow(/is corrupt \(subvolumes\.data\.last_kind: /);
    await expect(readState(path)).rejects.toMatchObject({ corruption: expect.stringMatching(/^subvolumes\.data\.last_kind: /) });
  });

  it('refuses a state written by a newer version', async () => {
    const path = join(dir, 'state.json');
    await writeFile(path, JSON.stringify({ ...state, version: 2 }));
    await expect(readState(path)).rejects.toThrow(
      `state file ${path} has version 2, newer than this btrfs-to-s3 understands (1); upgrade btrfs-to-s3`,
    );
    // Not corrupt: a newer tool's state must not be moved aside by an older one.
    await expect(readState(path)).rejects.toMatchObject({ corruption: undefined });
  });

  it('refuses to write an invalid state', async () => {
    await expect(writeState(join(dir, 'state.json'), { ...state, last_run_at: 'yesterday' })).rejects.toThrow();
    expect(await readdir(dir)).toEqual([]);
  });

  it('names the file when it cannot be written, leaving the old state intact', async () => {
    const path = join(dir, 'state.json');
    await writeState(path, state);
    await writeFile(join(dir, 'file'), '');
    // A path under a regular file fails even for root, who ignores permissions.
    await expect(writeState(join(dir, 'file', 'state.json'), state)).rejects.toThrow(
      `cannot write state file ${join(dir, 'file', 'state.json')}: EEXIST`,
    );
    await expect(readState(path)).resolves.toEqual(state);
  });
});
