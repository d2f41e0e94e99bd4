import { ExitCode, parsePointer, serializePointer, WriterConflictError } from '@org/btrfs-s3-core';
import { BackupHost, HOUR_MS } from './__fakes__/harness';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { BackupFailedError, runBackup } from './index';

/** A first run publishes `data` as host A; then another host (or an older version) meets its current.json. */
describe('one writer per prefix', () => {
  let host: BackupHost;
  beforeEach(async () => {
    host = new BackupHost({ subvolumes: ['data'] });
    await runBackup({ config: host.config, deps: host.deps() });
    host.advance(HOUR_MS);
  });
  afterEach(() => host.cleanup());

  const hostB = { id: 'b'.repeat(32), host: 'host-b' };

  it('records this host as the writer of every manifest and current.json', () => {
    const pointer = parsePointer(host.pointerKey('data'), host.text(host.pointerKey('data')) ?? '');
    expect(pointer.writer).toEqual({ id: 'a'.repeat(32), host: 'host-a' });
    expect(host.manifest(pointer.manifest_key).writer).toEqual(pointer.writer);
  });

  it("refuses another host's current.json with exit 2 naming that host, before anything under the prefix changes", async () => {
    const before = host.keys();
    host.writer = hostB;
    const uploadsBefore = host.bucket.uploads.size;

    const attempt = runBackup({ config: host.config, deps: host.deps(), once: true });

    await expect(attempt).rejects.toThrow(WriterConflictError);
    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Usage });
    await expect(attempt).rejects.toThrow(
      /was written by host host-a \(writer a{32}\); this host is host-b .* run backup --take-over once/,
    );
    expect(host.keys()).toEqual(before);
    expect(host.bucket.uploads.size).toBe(uploadsBefore);
    expect(host.world.snapshotsIn(host.config.snapshots.base_dir)).toHaveLength(1); // no snapshot was taken either
  });

  it('with --take-over, backs up and becomes the writer', async () => {
    host.writer = hostB;

    await runBackup({ config: host.config, deps: host.deps(), once: true, takeOver: true });

    const pointer = parsePointer(host.pointerKey('data'), host.text(host.pointerKey('data')) ?? '');
    expect(pointer.writer).toEqual(hostB);
    host.advance(HOUR_MS);
    await expect(runBackup({ config: host.config, deps: host.deps(), once: true })).resolves.toBeDefined();
  });

  it('does not overwrite a current.json another writer replaced while the run was uploading: the run fails naming it', async () => {
    const key = host.pointerKey('data');
    const theirs = Buffer.from(serializePointer({ ...parsePointer(key, host.text(key) ?? ''), writer: hostB }));
    host.bucket.objectOps.hook = (command) => {
      // Host B publishes between this run's manifest and its pointer.
      if (command instanceof PutObjectCommand && command.input.Key?.endsWith('/manifest.json')) host.bucket.put(key, theirs);
    };

    const attempt = runBackup({ config: host.config, deps: host.deps(), once: true });

    await expect(attempt).rejects.toThrow(BackupFailedError);
    await expect(attempt).rejects.toMatchObject({
      result: { outcomes: [{ result: 'failed', error: expect.stringContaining(`${key} refused: it changed since this run read it`) }] },
    });
    expect(host.text(key)).toBe(theirs.toString());
  });

  it('takes a current.json without a writer (written by an earlier version) as its own', async () => {
    const key = host.pointerKey('data');
    const pointer = parsePointer(key, host.text(key) ?? '');
    host.bucket.put(key, Buffer.from(serializePointer({ ...pointer, writer: undefined })));
    host.writer = hostB;

    const result = await runBackup({ config: host.config, deps: host.deps(), once: true });

    expect(result.outcomes.map((outcome) => outcome.result)).toEqual(['published']);
  });
});
