import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import {
  backupConfig,
  Bucket,
  type CliResult,
  gatewayEnv,
  MiB,
  run,
  sha256,
  testGateway,
  uniquePrefix,
  until,
  withLoopBtrfs,
  writeRandomFiles,
} from '@org/testenv';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliAsync, startBackground } from './cli';

/**
 * Restore against damaged backups and interruptions (issue 7, case 6 and the restore
 * half of case 2). Every case asserts the one-line error naming the cause, exit code 1,
 * that the restore wrote nothing to the bucket, that nothing is left at the target
 * (no subvolume anywhere on the filesystem, no target directory, no temp files), and
 * that a normal restore afterwards (the fault repaired, or from an intact backup)
 * succeeds and verifies against the source.
 *
 * One loop Btrfs and one pair of backup runs (a full, then an incremental of every
 * subvolume) serve every case: each damaging case has its own subvolume, so its own
 * keys (`<prefix>/subvol/<case>/`), and the interrupts only read theirs.
 */

interface ManifestPart {
  readonly number: number;
  readonly size: number;
  readonly sha256: string;
}
interface ManifestChunk {
  readonly key: string;
  readonly size: number;
  readonly sha256: string;
  readonly parts: readonly ManifestPart[];
}
interface ManifestDoc {
  readonly version: number;
  readonly kind: 'full' | 'inc';
  readonly parent_manifest: string | null;
  readonly snapshot: { readonly name: string };
  readonly chunks: readonly ManifestChunk[];
  readonly [field: string]: unknown;
}

/** A subvolume's published chain as the bucket holds it: the pointer, then the full and the incremental. */
interface Chain {
  readonly pointerKey: string;
  readonly fullKey: string;
  readonly incKey: string;
  readonly full: ManifestDoc;
  readonly inc: ManifestDoc;
}

interface Before {
  readonly bucket: { readonly objects: Record<string, string>; readonly keys: string[]; readonly uploads: string[] };
  readonly subvolumes: string[];
}

/** 18 MiB of incompressible data: a stream of two chunks (15 MiB of three parts, then the rest). */
const TWO_CHUNKS = 18 * MiB;

/** Every subvolume of the filesystem, wherever it is: `ID n path p` from `btrfs subvolume list`. */
async function subvolumesOn(mnt: string): Promise<string[]> {
  const out = await run('btrfs', ['subvolume', 'list', mnt]);
  return (
    out
      .split('\n')
      .filter((line) => line.trim() !== '')
      // The generation moves whenever the filesystem commits, whatever the restore did.
      .map((line) => line.replace(/ gen \d+/, ''))
      .sort()
  );
}

/**
 * A loop Btrfs held open across a describe block's tests (withLoopBtrfs takes a callback;
 * this parks inside it until `release`), so the backups are made once for every case.
 */
async function holdLoopBtrfs(size: string): Promise<{ mnt: string; release: () => Promise<void> }> {
  let letGo = (): void => undefined;
  const released = new Promise<void>((resolve) => (letGo = resolve));
  return new Promise((resolve, reject) => {
    const finished = withLoopBtrfs(
      async (mnt) => {
        resolve({
          mnt,
          release: async () => {
            letGo();
            await finished;
          },
        });
        await released;
      },
      { size },
    );
    finished.catch(reject);
  });
}

/**
 * A `btrfs` first on PATH that runs the real one, but copies the stdin of every
 * `btrfs receive` into a file of `dir`: the bytes the restore fed to receive, seen
 * from outside the process, to prove no byte that failed verification got there.
 * `exec` keeps receive's PID, so the restore's kill reaches receive itself.
 */
async function recordingBtrfs(dir: string): Promise<{ path: string; records: () => Promise<Buffer[]> }> {
  const real = (await run('sh', ['-c', 'command -v btrfs'])).trim();
  const bin = join(dir, 'bin');
  const records = join(dir, 'received');
  await mkdir(bin, { recursive: true });
  await mkdir(records);
  await writeFile(
    join(bin, 'btrfs'),
    `#!/bin/bash
if [ "$1" != receive ]; then exec ${real} "$@"; fi
exec ${real} "$@" < <(exec tee "${records}/$(date +%s%N).bin")
`,
  );
  await chmod(join(bin, 'btrfs'), 0o755);
  return {
    path: `${bin}:${process.env.PATH ?? ''}`,
    // Named by start time: the order in which the chain's receives ran.
    records: async () => Promise.all((await readdir(records)).sort().map((name) => readFile(join(records, name)))),
  };
}

/**
 * A `getfattr` first on PATH that says it started (a file in `dir`) and then waits,
 * up to two minutes, for a line on a FIFO before running the real one: a restore's
 * tree comparison parks there, so a signal is sure to arrive during verification.
 */
async function holdingGetfattr(dir: string): Promise<{ path: string; started: () => Promise<boolean>; release: () => Promise<void> }> {
  const real = (await run('sh', ['-c', 'command -v getfattr'])).trim();
  const bin = join(dir, 'bin');
  const fifo = join(dir, 'release');
  await mkdir(bin);
  await run('mkfifo', [fifo]);
  await writeFile(
    join(bin, 'getfattr'),
    `#!/bin/bash
# The restore's preflight asks for the version before anything is fetched: answer at once.
[[ "$1" == --version ]] && exec ${real} "$@"
: > "${dir}/started.$$"
exec 3<>"${fifo}"
read -r -t 120 _ <&3
exec ${real} "$@"
`,
  );
  await chmod(join(bin, 'getfattr'), 0o755);
  return {
    path: `${bin}:${process.env.PATH ?? ''}`,
    started: async () => (await readdir(dir)).some((name) => name.startsWith('started.')),
    // Opened read-write, the FIFO never blocks the opener; one line per waiting getfattr.
    release: () => writeFile(fifo, '\n\n', { flag: 'r+' }),
  };
}

/**
 * A TCP relay in front of the gateway that stops passing the gateway's answers on once
 * `holdAfterBytes` went through: a restore behind it stops mid-download, deterministically,
 * however fast the machine, so a signal is sure to arrive while bytes are being received.
 */
class HoldingRelay {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private passed = 0;
  private holding = false;

  private constructor(
    private readonly upstream: URL,
    private readonly holdAfterBytes: number,
  ) {
    this.server = createServer((client) => this.relay(client));
  }

  static async start(upstream: string, holdAfterBytes: number): Promise<HoldingRelay> {
    const relay = new HoldingRelay(new URL(upstream), holdAfterBytes);
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get held(): boolean {
    return this.holding;
  }

  private relay(client: Socket): void {
    const upstream = createConnection({ host: this.upstream.hostname, port: Number(this.upstream.port) });
    this.sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.on('data', (data: Buffer) => {
      // Once holding, answers go nowhere: the restore waits on them until it is stopped.
      if (this.holding) return;
      client.write(data);
      this.passed += data.length;
      if (this.passed >= this.holdAfterBytes) this.holding = true;
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('restore of a damaged or interrupted backup', () => {
  const bucket = new Bucket();
  const prefix = uniquePrefix('restore-faults');
  let mnt = '';
  let config = '';
  let release = async (): Promise<void> => undefined;
  const cleanups: string[] = [];

  const CASES = [
    'intact',
    'corrupt',
    'truncated',
    'missing',
    'incbad',
    'nomanifest',
    'badjson',
    'badschema',
    'badversion',
    'nopointer',
    'badpointer',
    'climbing',
    'hugepart',
  ] as const;
  type Case = (typeof CASES)[number];

  beforeAll(async () => {
    ({ mnt, release } = await holdLoopBtrfs('1G'));
    const btrfs = new Btrfs(spawnProcessRunner);
    for (const name of CASES) {
      await btrfs.createSubvolume(join(mnt, name));
      const big = ['intact', 'corrupt', 'truncated', 'missing'].includes(name);
      await writeRandomFiles(join(mnt, name), big ? 2 : 1, big ? TWO_CHUNKS / 2 : 64 * 1024);
    }
    await mkdir(join(mnt, 'restores'));
    config = backupConfig(mnt, prefix, CASES);
    const full = cli(['backup', '--config', config], gatewayEnv());
    if (full.code !== 0) throw new Error(`full backup exited ${full.code}: ${full.stderr}`);
    for (const name of CASES) await writeRandomFiles(join(mnt, name, 'later'), 1, 64 * 1024);
    // The incremental whose chunk goes bad is two chunks too, so it fails after receive got a verified part of it.
    await writeRandomFiles(join(mnt, 'incbad', 'later'), 2, TWO_CHUNKS / 2, 'big');
    const inc = cli(['backup', '--once', '--config', config], gatewayEnv());
    if (inc.code !== 0) throw new Error(`incremental backup exited ${inc.code}: ${inc.stderr}`);
  });

  afterAll(async () => {
    await release();
    for (const dir of cleanups) await rm(dir, { recursive: true, force: true });
    bucket.destroy();
  });

  const keysOf = (name: Case) => `${prefix}/subvol/${name}/`;

  async function chainOf(name: Case): Promise<Chain> {
    const pointerKey = `${keysOf(name)}current.json`;
    const incKey = ((await bucket.json(pointerKey)) as { manifest_key: string }).manifest_key;
    const inc = (await bucket.json(incKey)) as ManifestDoc;
    const fullKey = inc.parent_manifest ?? '';
    return { pointerKey, fullKey, incKey, full: (await bucket.json(fullKey)) as ManifestDoc, inc };
  }

  /**
   * What a restore must not change: every object of the case (key and SHA-256 of its
   * bytes), every key under the prefix, and no multipart upload anywhere under it.
   */
  async function bucketState(name: Case): Promise<{ objects: Record<string, string>; keys: string[]; uploads: string[] }> {
    const own = await bucket.keys(keysOf(name));
    const objects = Object.fromEntries(await Promise.all(own.map(async (key) => [key, sha256(await bucket.bytes(key))] as const)));
    return { objects, keys: await bucket.keys(`${prefix}/`), uploads: await bucket.uploads(prefix) };
  }

  /** The state a failed restore must leave as it found: the bucket and every subvolume of the filesystem. */
  async function stateBefore(name: Case): Promise<Before> {
    return { bucket: await bucketState(name), subvolumes: await subvolumesOn(mnt) };
  }

  /** The whole `btrfs send` stream of a backup, from its chunks as uploaded. */
  async function streamOf(manifest: ManifestDoc): Promise<Buffer> {
    return Buffer.concat(await Promise.all(manifest.chunks.map((chunk) => bucket.bytes(chunk.key))));
  }

  const deleteObject = (key: string) => bucket.client.send(new DeleteObjectCommand({ Bucket: bucket.name, Key: key }));

  async function scratch(what: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `restore-faults-${what}-`));
    cleanups.push(dir);
    return dir;
  }

  /**
   * The lines the CLI logged at error level. Every line of stderr must be a log line
   * (`HH:MM:SS level message`), so a message spilling onto more lines fails here; the
   * only exception is the AWS SDK's multi-line Node 20 warning, expected (see README).
   */
  function errorLines(result: CliResult): string[] {
    const stderr = result.stderr.replace(
      /\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)\n/,
      '',
    );
    const lines = stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines.filter((line) => !/^\d\d:\d\d:\d\d (debug|info|warn|error) /.test(line))).toEqual([]);
    return lines.filter((line) => /^\S+ error /.test(line));
  }

  /** What a failed restore must leave: the bucket as it was, no target, no subvolume, no temp files. */
  async function expectNothingLeft(name: Case, target: string, before: Before, tmp: string): Promise<void> {
    expect(await bucketState(name)).toEqual(before.bucket);
    expect(existsSync(target)).toBe(false);
    expect(await readdir(join(mnt, 'restores'))).toEqual([]);
    expect(await subvolumesOn(mnt)).toEqual(before.subvolumes);
    expect(await readdir(tmp)).toEqual([]);
  }

  /**
   * Runs a restore of `name` that must fail; checks exit code 1, a single error line
   * containing every string of `names`, and that nothing was left behind. Returns the
   * bytes each `btrfs receive` it started was fed.
   */
  async function expectRefused(name: Case, names: readonly string[], code = 1): Promise<{ result: CliResult; received: Buffer[] }> {
    const before = await stateBefore(name);
    const recorder = await recordingBtrfs(await scratch('btrfs'));
    const tmp = await scratch('tmp');
    const target = join(mnt, 'restores', name);
    const result = await cliAsync(['restore', '--config', config, '--subvolume', name, '--target', target], {
      ...gatewayEnv(),
      PATH: recorder.path,
      TMPDIR: tmp,
    });
    expect({ code: result.code, signal: result.signal }).toEqual({ code, signal: null });
    const lines = errorLines(result);
    expect(lines).toHaveLength(1);
    for (const text of names) expect(lines[0]).toContain(text);
    await expectNothingLeft(name, target, before, tmp);
    return { result, received: await recorder.records() };
  }

  /** A normal restore of `name` succeeds, and verifies the whole chain against the source snapshot. */
  async function expectRestores(name: Case, target = join(mnt, `${name}-restored`)): Promise<void> {
    const result = await cliAsync(
      ['restore', '--json', '--config', config, '--subvolume', name, '--target', target, '--verify', 'full'],
      gatewayEnv(),
    );
    if (result.code !== 0) throw new Error(`restore of ${name} exited ${result.code}: ${result.stderr}`);
    const restored = JSON.parse(result.stdout) as {
      chain: { kind: string }[];
      verification: { mode: string; differences?: unknown[]; skipped?: string };
    };
    expect(restored.chain.map((link) => link.kind)).toEqual(['full', 'inc']);
    expect(restored.verification).toMatchObject({ mode: 'full', differences: [] });
  }

  /** Asserts `record` is what the stream starts with, and stops before `limit` bytes. */
  function expectVerifiedPrefix(record: Buffer | undefined, stream: Buffer, limit: number): void {
    expect(record).toBeDefined();
    const bytes = record ?? Buffer.alloc(0);
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.length).toBeLessThanOrEqual(limit);
    expect(bytes.equals(stream.subarray(0, bytes.length))).toBe(true);
  }

  describe('a damaged chunk object', () => {
    it('with flipped bytes (same size) is refused naming the chunk and its expected and actual SHA-256; receive got only verified bytes before it, and the partial subvolume is removed', async () => {
      const { full } = await chainOf('corrupt');
      expect(full.chunks).toHaveLength(2);
      const [first, victim] = full.chunks;
      if (first === undefined || victim === undefined) throw new Error('the full has fewer than two chunks');
      const stream = await streamOf(full);
      const original = await bucket.bytes(victim.key);
      const damaged = Buffer.from(original);
      for (let index = MiB; index < MiB + 16; index += 1) damaged[index] = (damaged[index] ?? 0) ^ 0xff;
      await bucket.put(victim.key, damaged);
      expect(damaged.length).toBe(original.length);

      const part = victim.parts[0];
      if (part === undefined) throw new Error('the chunk lists no parts');
      const { received } = await expectRefused('corrupt', [
        victim.key,
        `expected ${part.sha256}`,
        `got ${sha256(damaged.subarray(0, part.size))}`,
      ]);
      // One receive ran; it was fed the verified first chunk (or less of it) and nothing of the damaged one.
      expect(received).toHaveLength(1);
      expectVerifiedPrefix(received[0], stream, first.size);

      await bucket.put(victim.key, original);
      await expectRestores('corrupt');
    });

    it('truncated (a shorter object) is refused naming the chunk and its expected and actual size, before receive gets any byte', async () => {
      const { full } = await chainOf('truncated');
      const victim = full.chunks[0];
      if (victim === undefined) throw new Error('the full has no chunk');
      const original = await bucket.bytes(victim.key);
      const shorter = original.subarray(0, original.length - 3 * MiB - 1);
      await bucket.put(victim.key, shorter);

      const { received } = await expectRefused('truncated', [victim.key, `expected ${victim.size} bytes`, `got ${shorter.length} bytes`]);
      expect(received.every((record) => record.length === 0)).toBe(true);

      await bucket.put(victim.key, original);
      await expectRestores('truncated');
    });

    it('missing (deleted) is refused naming the chunk before anything is received', async () => {
      const { full } = await chainOf('missing');
      const victim = full.chunks[1];
      if (victim === undefined) throw new Error('the full has fewer than two chunks');
      const original = await bucket.bytes(victim.key);
      await deleteObject(victim.key);

      const { received } = await expectRefused('missing', [victim.key, 'missing']);
      expect(received).toEqual([]);

      await bucket.put(victim.key, original);
      await expectRestores('missing');
    });

    it('in the incremental of a chain is refused naming it, and the full already received from the same restore is removed too', async () => {
      const { full, inc } = await chainOf('incbad');
      expect(inc.chunks).toHaveLength(2);
      const [first, victim] = inc.chunks;
      if (first === undefined || victim === undefined) throw new Error('the incremental has fewer than two chunks');
      const fullStream = await streamOf(full);
      const incStream = await streamOf(inc);
      const original = await bucket.bytes(victim.key);
      const damaged = Buffer.from(original);
      damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 0x01;
      await bucket.put(victim.key, damaged);

      const lastPart = victim.parts[victim.parts.length - 1];
      if (lastPart === undefined) throw new Error('the chunk lists no parts');
      const partStart = victim.size - lastPart.size;
      const { received } = await expectRefused('incbad', [
        victim.key,
        `expected ${lastPart.sha256}`,
        `got ${sha256(damaged.subarray(partStart))}`,
      ]);
      // The full was received whole (and then removed, which expectRefused checked); the incremental got only verified bytes.
      expect(received).toHaveLength(2);
      expect(received[0]?.equals(fullStream)).toBe(true);
      expectVerifiedPrefix(received[1], incStream, first.size + partStart);

      await bucket.put(victim.key, original);
      await expectRestores('incbad');
    });
  });

  describe('a damaged manifest or pointer', () => {
    it('a missing manifest (the full an incremental names as parent) is refused naming both keys before anything is received', async () => {
      const { fullKey, incKey } = await chainOf('nomanifest');
      const original = await bucket.bytes(fullKey);
      await deleteObject(fullKey);

      const { received } = await expectRefused('nomanifest', [fullKey, incKey, 'does not exist']);
      expect(received).toEqual([]);

      await bucket.put(fullKey, original);
      await expectRestores('nomanifest');
    });

    it('a manifest that is not valid JSON is refused naming it before anything is received', async () => {
      const { incKey } = await chainOf('badjson');
      const original = await bucket.bytes(incKey);
      await bucket.put(incKey, original.subarray(0, Math.floor(original.length / 2)));

      const { received } = await expectRefused('badjson', [`manifest ${incKey} is not valid JSON`]);
      expect(received).toEqual([]);

      await bucket.put(incKey, original);
      await expectRestores('badjson');
    });

    it('a manifest that is valid JSON but fails the schema is refused naming it and the field, before anything is received', async () => {
      const { fullKey, full } = await chainOf('badschema');
      const original = await bucket.bytes(fullKey);
      const [chunk, ...rest] = full.chunks;
      if (chunk === undefined) throw new Error('the full has no chunk');
      await bucket.put(fullKey, JSON.stringify({ ...full, chunks: [{ ...chunk, sha256: 'not-a-hash' }, ...rest] }));

      const { received } = await expectRefused('badschema', [`manifest ${fullKey} is malformed`, 'sha256']);
      expect(received).toEqual([]);

      await bucket.put(fullKey, original);
      await expectRestores('badschema');
    });

    it('a manifest of an unknown version is refused naming it and the version, before anything is received', async () => {
      const { fullKey, full } = await chainOf('badversion');
      const original = await bucket.bytes(fullKey);
      await bucket.put(fullKey, JSON.stringify({ ...full, version: 3 }));

      const { received } = await expectRefused('badversion', [`manifest ${fullKey} has version 3`, 'reads version 1 and 2 only']);
      expect(received).toEqual([]);

      await bucket.put(fullKey, original);
      await expectRestores('badversion');
    });

    it('a manifest whose snapshot name climbs out of the target is refused naming it, before anything is received', async () => {
      const { incKey, inc } = await chainOf('climbing');
      const original = await bucket.bytes(incKey);
      await bucket.put(incKey, JSON.stringify({ ...inc, snapshot: { ...inc.snapshot, name: '../../escaped' } }));

      const { received } = await expectRefused('climbing', [`manifest ${incKey} is malformed`, 'snapshot.name "../../escaped"']);
      expect(received).toEqual([]);
      expect(existsSync(join(mnt, 'escaped'))).toBe(false);

      await bucket.put(incKey, original);
      await expectRestores('climbing');
    });

    it('a manifest with an absurd part size (2^50 bytes), or one within S3 but past restore.max_part_size_bytes, is refused naming it, before any chunk is read or a buffer sized', async () => {
      const { fullKey, full } = await chainOf('hugepart');
      const original = await bucket.bytes(fullKey);
      const [chunk, ...rest] = full.chunks;
      if (chunk === undefined) throw new Error('the full has no chunk');
      const withPart = (size: number) => ({
        ...full,
        chunks: [{ ...chunk, size, plain_size: size, parts: [{ number: 1, size, sha256: chunk.sha256 }] }, ...rest],
        total_bytes: (full.total_bytes as number) - chunk.size + size,
        stored_bytes: (full.stored_bytes as number) - chunk.size + size,
      });
      await bucket.put(fullKey, JSON.stringify(withPart(2 ** 50)));

      const { received } = await expectRefused('hugepart', [`manifest ${fullKey} is malformed`, 'S3 parts are at most 5 GiB']);
      expect(received).toEqual([]);

      // 4 GiB is a valid S3 part, but the config (512 MiB by default), not the manifest, bounds what a download holds.
      await bucket.put(fullKey, JSON.stringify(withPart(4 * 1024 * MiB)));
      const limited = await expectRefused(
        'hugepart',
        [`manifest ${fullKey}: part 1 of ${chunk.key} is 4096 MiB, larger than the 512 MiB`, 'restore.max_part_size_bytes'],
        ExitCode.Usage,
      );
      expect(limited.received).toEqual([]);

      await bucket.put(fullKey, original);
      await expectRestores('hugepart');
    });

    it('a current.json pointing to a manifest that does not exist is refused naming that key', async () => {
      const { pointerKey } = await chainOf('nopointer');
      const original = await bucket.bytes(pointerKey);
      const nowhere = `${keysOf('nopointer')}full/20990101T000000Z/manifest.json`;
      await bucket.put(pointerKey, JSON.stringify({ ...(JSON.parse(original.toString('utf8')) as object), manifest_key: nowhere }));

      const { received } = await expectRefused('nopointer', [`manifest ${nowhere} does not exist`]);
      expect(received).toEqual([]);

      await bucket.put(pointerKey, original);
      await expectRestores('nopointer');
    });

    it('a malformed current.json is refused naming it', async () => {
      const { pointerKey } = await chainOf('badpointer');
      const original = await bucket.bytes(pointerKey);
      await bucket.put(pointerKey, '{"version": 1, "manifest_key": ');

      const { received } = await expectRefused('badpointer', [`pointer ${pointerKey} is not valid JSON`]);
      expect(received).toEqual([]);

      await bucket.put(pointerKey, original);
      await expectRestores('badpointer');
    });
  });

  describe('an interrupted restore', () => {
    it.each(['SIGTERM', 'SIGINT'] as const)(
      'stopped by %s mid-download exits 143 (SIGTERM) or 130 (SIGINT) naming the signal, removes the partially received subvolume and the target, and leaves no temp files',
      async (signal) => {
        const { full } = await chainOf('intact');
        const before = await stateBefore('intact');
        // One GET at a time, held after 7 MiB: the first 5 MiB part reached receive, the second is in flight.
        const relay = await HoldingRelay.start(testGateway().endpoint, 7 * MiB);
        try {
          const tmp = await scratch('tmp');
          const spool = join(await scratch('spool'), 'spool');
          const slow = backupConfig(mnt, prefix, CASES, {
            endpoint: relay.endpoint,
            s3: 'concurrency = 1',
            global: `spool_dir = "${spool}"`,
          });
          const target = join(mnt, 'restores', 'intact');
          const restore = startBackground(['restore', '--config', slow, '--subvolume', 'intact', '--target', target], {
            ...gatewayEnv(),
            TMPDIR: tmp,
          });
          await until('the full to be partially received', () => relay.held && existsSync(join(target, full.snapshot.name)));
          restore.child.kill(signal);
          const result = await restore.done;

          expect({ code: result.code, signal: result.signal }).toEqual({ code: signal === 'SIGINT' ? 130 : 143, signal: null });
          const lines = errorLines(result);
          expect(lines).toHaveLength(1);
          expect(lines[0]).toContain(`interrupted by ${signal}; everything this restore received was removed; the bucket is unchanged`);
          await expectNothingLeft('intact', target, before, tmp);
          expect(existsSync(spool)).toBe(false);
        } finally {
          await relay.close();
        }
        await expectRestores('intact', join(mnt, `intact-after-${signal}`));
      },
    );

    it('stopped by SIGTERM while it verifies the received chain stops the verification, exits 143 and removes every received snapshot and the target', async () => {
      const before = await stateBefore('intact');
      const gate = await holdingGetfattr(await scratch('getfattr'));
      const tmp = await scratch('tmp');
      const target = join(mnt, 'restores', 'intact');
      const restore = startBackground(['restore', '--config', config, '--subvolume', 'intact', '--target', target, '--verify', 'full'], {
        ...gatewayEnv(),
        PATH: gate.path,
        TMPDIR: tmp,
      });
      let exited = false;
      void restore.done.then(() => (exited = true));
      try {
        await until('the tree comparison to start', gate.started);
        // The whole chain is received by now: verification runs on complete snapshots.
        expect((await readdir(target)).length).toBe(2);
        restore.child.kill('SIGTERM');
        await until('the restore to stop', () => exited, 30_000);
      } finally {
        if (!exited) await gate.release();
      }
      const result = await restore.done;
      expect({ code: result.code, signal: result.signal }).toEqual({ code: 143, signal: null });
      const lines = errorLines(result);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('interrupted by SIGTERM');
      await expectNothingLeft('intact', target, before, tmp);
    });
  });
});
