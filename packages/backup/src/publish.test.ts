import { join } from 'node:path';
import { CompleteMultipartUploadCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { s3Error } from '@org/btrfs-s3-store/testing';
import type { ProgressEvent } from '@org/btrfs-s3-core';
import { FakeBtrfsWorld } from './__fakes__/fake-btrfs';
import { BackupHost, DAY_MS } from './__fakes__/harness';
import { BackupFailedError, type Failpoint, runBackup } from './index';

/** The keys of every object the bucket made visible, in order: completed chunk uploads and single PUTs. */
function publishedKeys(host: BackupHost): string[] {
  return host.bucket.commands.flatMap((command) => {
    if (command instanceof CompleteMultipartUploadCommand || command instanceof PutObjectCommand) return [command.input.Key ?? ''];
    return [];
  });
}

describe('runBackup publishing', () => {
  let host: BackupHost;
  beforeEach(() => {
    host = new BackupHost();
  });
  afterEach(() => host.cleanup());

  it('completes every chunk object, then writes manifest.json, then current.json', async () => {
    const result = await runBackup({ config: host.config, deps: host.deps() });

    const [outcome] = result.outcomes;
    if (outcome?.result !== 'published') throw new Error(`expected a published outcome, got ${JSON.stringify(outcome)}`);
    const manifest = host.manifest(outcome.manifestKey);
    expect(manifest.chunks.length).toBeGreaterThan(1);
    // The writer marker first: before any upload, the directory names its writer. Chunks complete
    // in any order (several are in flight), all before the manifest.
    const keys = publishedKeys(host);
    const chunkKeys = manifest.chunks.map((chunk) => chunk.key);
    expect(keys[0]).toBe(outcome.manifestKey.replace(/manifest\.json$/, 'writer.json'));
    expect(keys.slice(1, 1 + chunkKeys.length).sort()).toEqual([...chunkKeys].sort());
    expect(keys.slice(1 + chunkKeys.length)).toEqual([outcome.manifestKey, host.pointerKey('data')]);
    expect(host.current('data')).toBe(outcome.manifestKey);
  });

  it('refuses a recipient that fails its checksum before any snapshot or request, naming the key', async () => {
    const typo = new BackupHost({ encryption: `recipients = ["age1${'q'.repeat(58)}"]` });
    try {
      await expect(runBackup({ config: typo.config, deps: typo.deps() })).rejects.toThrow(
        /encryption\.recipients: age1q+ is not a usable age recipient/,
      );
      expect(typo.bucket.commands).toEqual([]);
      expect([...typo.world.subvolumes.keys()].filter((path) => path.includes('__'))).toEqual([]);
    } finally {
      typo.cleanup();
    }
  });

  it('records the stream btrfs send wrote: its chunks concatenated are the stream', async () => {
    await runBackup({ config: host.config, deps: host.deps() });

    const manifest = host.manifest(host.current('data') ?? '');
    const stored = Buffer.concat(manifest.chunks.map((chunk) => host.bucket.objects.get(chunk.key)?.bytes ?? Buffer.alloc(0)));
    expect(stored).toEqual(FakeBtrfsWorld.streamOf(join(host.config.snapshots.base_dir, manifest.snapshot.name)));
    expect(manifest.total_bytes).toBe(stored.length);
  });

  it('names a backup in the same second as the last one, whose snapshot was deleted by hand, by the next second: both stay in the bucket', async () => {
    const first = await runBackup({ config: host.config, deps: host.deps() });
    const snapshots = join(host.dir, 'snapshots');
    for (const name of host.world.snapshotsIn(snapshots)) await host.world.btrfs.deleteSubvolume(join(snapshots, name));

    const second = await runBackup({ config: host.config, deps: host.deps(), once: true }); // the clock has not moved

    const keys = [first, second].map((result) => {
      const [outcome] = result.outcomes;
      if (outcome?.result !== 'published') throw new Error(`expected a published outcome, got ${JSON.stringify(outcome)}`);
      return outcome.manifestKey;
    });
    expect(keys[1]).not.toBe(keys[0]);
    expect(host.manifest(keys[1] ?? '').snapshot.name).toMatch(/__20\d{6}T\d{6}Z__full$/);
    expect(new Date(host.manifest(keys[1] ?? '').created_at).getTime() - new Date(host.manifest(keys[0] ?? '').created_at).getTime()).toBe(
      1000,
    );
    expect(host.keys()).toEqual(expect.arrayContaining([keys[0], keys[1]]));
  });

  it("names a backup in the same second as a failed run past it: the failed run's writer.json outlives its snapshot", async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    host.advance(8 * DAY_MS);
    host.bucket.multipart.hook = (command) => {
      if (command instanceof UploadPartCommand) throw s3Error('AccessDenied', 403);
    };
    await expect(runBackup({ config: host.config, deps: host.deps() })).rejects.toBeInstanceOf(BackupFailedError);
    const failedDirs = host
      .keys()
      .filter((key) => key.endsWith('/writer.json') && !host.keys().includes(key.replace(/writer\.json$/, 'manifest.json')));
    expect(failedDirs).toHaveLength(1);
    host.bucket.multipart.hook = () => undefined;

    const result = await runBackup({ config: host.config, deps: host.deps() }); // the clock has not moved

    expect(result.outcomes.map((outcome) => outcome.result)).toEqual(['published']);
    expect(host.current('data')).toMatch(/\/inc\/\d{8}T\d{6}Z\/manifest\.json$/);
    expect(host.current('data')?.replace(/manifest\.json$/, 'writer.json')).not.toBe(failedDirs[0]);
  });

  it('writes the state file only after current.json names the new backup', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const first = host.current('data');
    host.advance(8 * DAY_MS); // incremental_every_days defaults to 7

    const seen: Array<{ at: Failpoint; pointer: string | undefined; state: string | undefined }> = [];
    host.failpoint = (at) => {
      if (at === 'backup:manifest-written' || at === 'backup:pointer-written')
        seen.push({ at, pointer: host.current('data'), state: host.state()?.subvolumes.data?.last_manifest });
    };
    const result = await runBackup({ config: host.config, deps: host.deps() });

    const second = result.outcomes[0]?.result === 'published' ? result.outcomes[0].manifestKey : undefined;
    expect(second).toMatch(/\/inc\/\d{8}T\d{6}Z\/manifest\.json$/);
    expect(seen).toEqual([
      { at: 'backup:manifest-written', pointer: first, state: first },
      { at: 'backup:pointer-written', pointer: second, state: first },
    ]);
    expect(host.state()?.subvolumes.data?.last_manifest).toBe(second);
  });
});

describe('runBackup without a logger', () => {
  let host: BackupHost;
  beforeEach(() => {
    host = new BackupHost();
  });
  afterEach(() => {
    jest.restoreAllMocks();
    host.cleanup();
  });

  it('writes nothing to stdout, stderr or the console during a successful run', async () => {
    // Making the S3 client had the SDK warn that this Node is old; Node prints a warning on a later tick. Let it out first: it is not the library's.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const writes = [jest.spyOn(process.stdout, 'write'), jest.spyOn(process.stderr, 'write')];
    const consoles = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => jest.spyOn(console, method));

    const result = await runBackup({ config: host.config, deps: host.deps() });

    expect(result.outcomes.map((outcome) => outcome.result)).toEqual(['published']);
    for (const spy of [...writes, ...consoles]) expect(spy).not.toHaveBeenCalled();
  });

  it('reports the upload through onProgress, ending with one done event carrying every byte', async () => {
    const events: ProgressEvent[] = [];
    await runBackup({ config: host.config, deps: host.deps(), onProgress: (event) => events.push(event) });

    const manifest = host.manifest(host.current('data') ?? '');
    expect(events.length).toBeGreaterThan(1);
    expect(events.every((event) => event.phase === 'upload' && event.subvolume === 'data')).toBe(true);
    expect(events.filter((event) => event.done)).toHaveLength(1);
    expect(events[0]).toEqual({
      phase: 'upload',
      subvolume: 'data',
      label: 'data',
      bytes: 0,
      chunks: 0,
      parts: 0,
      retries: 0,
      done: false,
    });
    expect(events.at(-1)).toEqual({
      phase: 'upload',
      subvolume: 'data',
      label: 'data',
      bytes: manifest.total_bytes,
      chunks: manifest.chunks.length,
      parts: manifest.chunks.reduce((sum, chunk) => sum + chunk.parts.length, 0),
      retries: 0,
      done: true,
    });
  });

  it("estimates a backup's size from the last published stream of the same subvolume and kind, and a first one's not at all", async () => {
    const estimates = async (options: { full?: boolean } = {}) => {
      const events: ProgressEvent[] = [];
      const result = await runBackup({
        config: host.config,
        deps: host.deps(),
        onProgress: (event) => events.push(event),
        once: true,
        ...options,
      });
      expect(result.outcomes.map((outcome) => outcome.result)).toEqual(['published']);
      return new Set(events.map((event) => event.estimatedTotalBytes));
    };

    expect(await estimates()).toEqual(new Set([undefined])); // the first full
    const firstFull = host.manifest(host.current('data') ?? '').total_bytes;
    host.advance(DAY_MS);
    expect(await estimates()).toEqual(new Set([undefined])); // the first incremental
    const firstInc = host.manifest(host.current('data') ?? '').total_bytes;
    host.advance(DAY_MS);
    expect(await estimates()).toEqual(new Set([firstInc]));
    host.advance(DAY_MS);
    expect(await estimates({ full: true })).toEqual(new Set([firstFull]));
  });
});
