import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotsToDelete } from '../snapshots/retention';
import {
  deleteResumeRecord,
  liveResumeRecords,
  openUploadRecordPath,
  readResumeRecord,
  type ResumeRecord,
  resumedBytes,
  resumeRecordPath,
  writeOpenUploadRecord,
  writeResumeRecord,
} from './resume';

const H = (c: string) => c.repeat(64);
const record = (updatedAt: string): ResumeRecord => ({
  version: 1,
  subvolume: 'data',
  kind: 'full',
  snapshot: {
    name: 'data__20261201T020000Z__full',
    path: '/snap/data__20261201T020000Z__full',
    uuid: 'u-1',
    created_at: '2026-12-01T02:00:00.000Z',
  },
  parent: null,
  backup_prefix: 'host1/subvol/data/full/20261201T020000Z',
  layout: { chunk_size: 100, part_size: 40, compression: null, recipients: [] },
  chunks: [
    {
      key: 'host1/subvol/data/full/20261201T020000Z/chunks/part-00000.bin',
      size: 100,
      sha256: H('a'),
      etag: 'e-3',
      parts: [{ number: 1, size: 100, sha256: H('b') }],
      plain_size: 100,
      plain_sha256: H('a'),
    },
  ],
  open_upload: {
    key: 'host1/subvol/data/full/20261201T020000Z/chunks/part-00001.bin',
    upload_id: 'up-1',
    parts: [{ number: 1, size: 40, sha256: H('c'), etag: 'e' }],
  },
  started_at: '2026-12-01T02:00:00.000Z',
  updated_at: updatedAt,
});

describe('resume records', () => {
  let dir: string;
  let statePath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resume-'));
    statePath = join(dir, 'state.json');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('round-trips beside the state file, 0600, and reads nothing once deleted', async () => {
    expect(await readResumeRecord(statePath, 'data')).toBeUndefined();
    await writeResumeRecord(statePath, record('2026-12-02T00:00:00.000Z'));
    expect(resumeRecordPath(statePath, 'data')).toBe(join(dir, 'resume', 'data.json'));
    expect((await stat(resumeRecordPath(statePath, 'data'))).mode & 0o777).toBe(0o600);
    expect(await readResumeRecord(statePath, 'data')).toEqual({ record: record('2026-12-02T00:00:00.000Z') });
    expect(resumedBytes(record('2026-12-02T00:00:00.000Z'))).toBe(140);
    await deleteResumeRecord(statePath, 'data');
    await deleteResumeRecord(statePath, 'data'); // already gone: nothing to do
    expect(await readResumeRecord(statePath, 'data')).toBeUndefined();
  });

  it('names the problem of a file that is not a record, or is another subvolume’s', async () => {
    await writeResumeRecord(statePath, record('2026-12-02T00:00:00.000Z'));
    await copyFile(resumeRecordPath(statePath, 'data'), resumeRecordPath(statePath, 'home'));
    expect(await readResumeRecord(statePath, 'home')).toEqual({ problem: `${resumeRecordPath(statePath, 'home')} is the record of data` });
    await writeFile(resumeRecordPath(statePath, 'data'), '{"version": 1}');
    expect(await readResumeRecord(statePath, 'data')).toEqual({ problem: expect.stringContaining('is not a resume record') });
    await writeFile(resumeRecordPath(statePath, 'data'), 'torn');
    expect(await readResumeRecord(statePath, 'data')).toEqual({ problem: `${resumeRecordPath(statePath, 'data')} is not JSON` });
  });

  it('takes the open upload from its own file when that is newer and of the chunk after the completed ones', async () => {
    const base = record('2026-12-02T00:00:00.000Z');
    await writeResumeRecord(statePath, { ...base, open_upload: null });
    const open = {
      version: 1 as const,
      backup_prefix: base.backup_prefix,
      chunk_index: 1,
      open_upload: base.open_upload ?? { key: '', upload_id: '', parts: [] },
      updated_at: '2026-12-02T01:00:00.000Z',
    };
    await writeOpenUploadRecord(statePath, 'data', open);
    expect(await readResumeRecord(statePath, 'data')).toEqual({
      record: { ...base, open_upload: base.open_upload, updated_at: '2026-12-02T01:00:00.000Z' },
    });
    // Of an earlier chunk (the record was rewritten when that chunk completed), or of another backup: ignored.
    await writeOpenUploadRecord(statePath, 'data', { ...open, chunk_index: 0 });
    expect(await readResumeRecord(statePath, 'data')).toEqual({ record: { ...base, open_upload: null } });
    await writeOpenUploadRecord(statePath, 'data', { ...open, backup_prefix: 'host1/subvol/data/full/20261101T020000Z' });
    expect(await readResumeRecord(statePath, 'data')).toEqual({ record: { ...base, open_upload: null } });
    await writeFile(openUploadRecordPath(statePath, 'data'), 'torn');
    expect(await readResumeRecord(statePath, 'data')).toEqual({ record: { ...base, open_upload: null } });
    await deleteResumeRecord(statePath, 'data');
    expect(await readResumeRecord(statePath, 'data')).toBeUndefined();
    await expect(stat(openUploadRecordPath(statePath, 'data'))).rejects.toThrow();
  });

  it('counts a record live until s3.resume_max_age_hours after its last progress', async () => {
    await writeResumeRecord(statePath, record('2026-12-02T00:00:00.000Z'));
    expect(await liveResumeRecords(statePath, ['data', 'home'], new Date('2026-12-02T10:00:00Z'), 10)).toHaveLength(1);
    expect(await liveResumeRecords(statePath, ['data'], new Date('2026-12-02T10:00:01Z'), 10)).toEqual([]);
  });

  it('local retention keeps every name it is given', () => {
    const names = ['data__20261201T020000Z__full', 'data__20261202T020000Z__inc', 'data__20261203T020000Z__inc'];
    expect(snapshotsToDelete({ subvolume: 'data', names, retain: 1, keep: [names[0] ?? '', names[1] ?? ''] })).toEqual([]);
    expect(snapshotsToDelete({ subvolume: 'data', names, retain: 1, keep: names[0] })).toEqual([names[1]]);
  });
});
