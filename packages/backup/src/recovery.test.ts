import { AbortMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { compactTimestamp, serializeWriterMarker, WriterConflictError } from '@org/btrfs-s3-core';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackupHost, DAY_MS, HOUR_MS } from './__fakes__/harness';
import { runBackup } from './index';

describe('runBackup after a dead run: multipart uploads', () => {
  let host: BackupHost;
  beforeEach(() => {
    host = new BackupHost();
  });
  afterEach(() => host.cleanup());

  /** An upload a dead run (or someone else) left open, started `ageMs` before the run. */
  const leaveUpload = (id: string, key: string, ageMs: number) =>
    host.bucket.uploads.set(id, {
      key: `host1/subvol/${key}`,
      parts: new Map([[1, Buffer.from('orphan')]]),
      initiated: new Date(host.now.getTime() - ageMs),
    });

  it("aborts a configured subvolume's open upload of any age before uploading, and others' only past s3.stale_upload_age_hours", async () => {
    leaveUpload('ours-young', 'data/full/20261201T015900Z/chunks/part-00000.bin', 60_000);
    leaveUpload('other-young', 'retired/full/20261201T010000Z/chunks/part-00000.bin', HOUR_MS);
    leaveUpload('other-old', 'retired/full/20261128T000000Z/chunks/part-00000.bin', 25 * HOUR_MS); // the default limit is 24 h

    await runBackup({ config: host.config, deps: host.deps() });

    expect([...host.bucket.uploads.keys()]).toEqual(['other-young']);
    const aborted = host.bucket.of(AbortMultipartUploadCommand).map((command) => command.input.UploadId);
    expect(aborted.sort()).toEqual(['other-old', 'ours-young']);
    const firstCreate = host.bucket.commands.findIndex((command) => command instanceof CreateMultipartUploadCommand);
    const lastAbort = host.bucket.commands.findLastIndex((command) => command instanceof AbortMultipartUploadCommand);
    expect(lastAbort).toBeLessThan(firstCreate);
  });

  /** Another host's run in progress: its writer marker, no manifest yet. */
  const foreignRun = (dir: string) =>
    host.bucket.put(
      `host1/subvol/${dir}/writer.json`,
      Buffer.from(serializeWriterMarker({ id: 'b'.repeat(32), host: 'host-b' }, new Date(host.now.getTime() - 3 * DAY_MS))),
    );

  it("never aborts another host's upload in progress elsewhere under the prefix, however old (a slow first full)", async () => {
    foreignRun('retired/full/20261128T000000Z');
    leaveUpload('theirs-old', 'retired/full/20261128T000000Z/chunks/part-00000.bin', 3 * DAY_MS);
    leaveUpload('stray-old', 'gone/full/20261128T000000Z/chunks/part-00000.bin', 25 * HOUR_MS);

    await runBackup({ config: host.config, deps: host.deps() });

    expect([...host.bucket.uploads.keys()]).toEqual(['theirs-old']);
  });

  it("refuses (exit 2, naming the host) a subvolume where another host's first full is in progress, without aborting its upload", async () => {
    foreignRun('data/full/20261130T000000Z');
    leaveUpload('theirs', 'data/full/20261130T000000Z/chunks/part-00000.bin', DAY_MS);

    const attempt = runBackup({ config: host.config, deps: host.deps() });

    await expect(attempt).rejects.toThrow(WriterConflictError);
    await expect(attempt).rejects.toThrow('host1/subvol/data/full/20261130T000000Z/writer.json was written by host host-b');
    expect([...host.bucket.uploads.keys()]).toEqual(['theirs']);
    expect(host.bucket.of(AbortMultipartUploadCommand)).toEqual([]);
  });
});

describe('runBackup after a dead run: a pointer newer than state', () => {
  let host: BackupHost;
  let first: string | undefined;
  let second: string | undefined;
  /** The state file as it was after the first run. */
  let stateAfterFirst: string;

  /**
   * Two runs eight days apart, then the state file put back as the first left it: what a
   * run killed between writing current.json and writing state leaves behind.
   */
  beforeEach(async () => {
    host = new BackupHost();
    await runBackup({ config: host.config, deps: host.deps() });
    first = host.current('data');
    stateAfterFirst = join(host.dir, 'state-after-first.json');
    copyFileSync(host.config.global.state_path, stateAfterFirst);
    host.advance(8 * DAY_MS);
    await runBackup({ config: host.config, deps: host.deps() });
    second = host.current('data');
    copyFileSync(stateAfterFirst, host.config.global.state_path);
    host.advance(HOUR_MS);
  });
  afterEach(() => host.cleanup());

  it('adopts the published backup whose snapshot is here with its UUID, and then finds nothing due', async () => {
    expect(host.state()?.subvolumes.data?.last_manifest).toBe(first);

    const result = await runBackup({ config: host.config, deps: host.deps() });

    expect(result.outcomes).toEqual([expect.objectContaining({ subvolume: 'data', result: 'not-due' })]);
    const adopted = host.manifest(second ?? '');
    expect(host.state()?.subvolumes.data).toEqual({
      last_snapshot: adopted.snapshot.name,
      last_manifest: second,
      last_kind: 'inc',
      last_backup_at: adopted.created_at,
      last_full_at: host.manifest(first ?? '').created_at,
    });
  });

  it('adopts the published backup and then plans the next incremental on it', async () => {
    const result = await runBackup({ config: host.config, deps: host.deps(), once: true });

    expect(result.plan[0]).toMatchObject({
      action: 'incremental',
      parentManifest: second,
      parentSnapshot: host.manifest(second ?? '').snapshot.name,
    });
    expect(result.outcomes[0]?.result).toBe('published');
  });

  it('does not adopt a pointer whose snapshot here has another UUID (another host made it)', async () => {
    const path = join(host.config.snapshots.base_dir, host.manifest(second ?? '').snapshot.name);
    const local = host.world.subvolumes.get(path);
    if (local === undefined) throw new Error(`the world has no ${path}`);
    host.world.subvolumes.set(path, { ...local, uuid: 'a-stranger' });

    const result = await runBackup({ config: host.config, deps: host.deps() });

    expect(result.plan[0]).toMatchObject({ action: 'incremental', parentManifest: first });
  });
});

describe('runBackup after a dead run: a pointer whose chain is broken', () => {
  let host: BackupHost;
  beforeEach(() => {
    host = new BackupHost();
  });
  afterEach(() => host.cleanup());

  it('does not adopt an incremental whose full is gone, and makes the next backup a full', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const full = host.current('data') ?? '';
    host.advance(8 * DAY_MS);
    await runBackup({ config: host.config, deps: host.deps() });
    host.bucket.objects.delete(full); // the full's manifest is lost
    rmSync(host.config.global.state_path); // and so is local state
    host.advance(HOUR_MS);

    const result = await runBackup({ config: host.config, deps: host.deps() });

    expect(result.plan[0]).toMatchObject({ subvolume: 'data', action: 'full' });
    expect(result.outcomes[0]).toMatchObject({ result: 'published' });
    expect(host.manifest(host.current('data') ?? '').kind).toBe('full');
  });
});

describe('runBackup with a corrupt state file', () => {
  let host: BackupHost;
  beforeEach(() => {
    host = new BackupHost();
  });
  afterEach(() => host.cleanup());

  it('moves it aside to <path>.corrupt-<timestamp> and rebuilds state from current.json', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const published = host.state()?.subvolumes.data;
    const statePath = host.config.global.state_path;
    writeFileSync(statePath, '{"version": 1, "subvolumes": {');
    host.advance(HOUR_MS);

    const result = await runBackup({ config: host.config, deps: host.deps() });

    const aside = `${statePath}.corrupt-${compactTimestamp(host.now)}`;
    expect(existsSync(aside)).toBe(true);
    expect(readFileSync(aside, 'utf8')).toBe('{"version": 1, "subvolumes": {');
    expect(host.state()?.subvolumes.data).toEqual(published);
    expect(result.outcomes).toEqual([expect.objectContaining({ subvolume: 'data', result: 'not-due' })]);
  });
});
