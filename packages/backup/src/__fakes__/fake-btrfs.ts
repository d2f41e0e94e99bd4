import { Btrfs, BTRFS_SUPER_MAGIC, SUBVOLUME_ROOT_INODE } from '@org/btrfs-s3-btrfs';
import { type FakeProcess, FakeRunner } from '@org/btrfs-s3-btrfs/testing';
import { ProcessError, type ProcessResult } from '@org/btrfs-s3-core';
import { mkdirSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';

/** One subvolume of the fake filesystem. */
export interface FakeSubvolume {
  readonly uuid: string;
  readonly parentUuid: string | null;
  readonly readOnly: boolean;
}

/**
 * A tiny Btrfs for orchestration tests: a map of subvolumes by path, answering the
 * btrfs-progs commands a backup runs (`subvolume show`, `subvolume snapshot -r`,
 * `subvolume delete`, `send`) through a FakeRunner, so `btrfs` is the real Btrfs
 * class parsing fake output. Every path counts as on Btrfs. Snapshots are also
 * made as empty directories on disk, because SnapshotManager reads the snapshot
 * directory with readdir to pick a free name.
 */
export class FakeBtrfsWorld {
  readonly subvolumes = new Map<string, FakeSubvolume>();
  readonly runner: SendingRunner;
  readonly btrfs: Btrfs;
  /** Subvolume names whose `btrfs send` fails after a few bytes, with this stderr. */
  private readonly failingSends = new Map<string, string>();
  private uuids = 0;

  /** `sources`: the configured subvolumes (writable, not snapshots). */
  constructor(sources: readonly string[]) {
    for (const path of sources) this.subvolumes.set(path, { uuid: this.newUuid(), parentUuid: null, readOnly: false });
    this.runner = new SendingRunner(
      async (args) => this.run(args),
      (process, args) => this.send(process, args),
    );
    this.btrfs = new Btrfs(this.runner, 'btrfs', {
      filesystemType: async () => BTRFS_SUPER_MAGIC,
      childDirectories: async (dir) =>
        [...this.subvolumes.keys()]
          .filter((path) => dirname(path) === dir)
          .map((path) => ({ name: basename(path), inode: SUBVOLUME_ROOT_INODE })),
    });
  }

  /** Makes every later `btrfs send` of a snapshot of `subvolume` fail, as an I/O error would. */
  failSendOf(subvolume: string, stderr = 'ERROR: send ioctl failed with -5: Input/output error'): void {
    this.failingSends.set(subvolume, stderr);
  }

  /** The names of the snapshots in `dir`, sorted. */
  snapshotsIn(dir: string): string[] {
    return [...this.subvolumes.keys()]
      .filter((path) => dirname(path) === dir)
      .map((path) => basename(path))
      .sort();
  }

  /** What `btrfs send` of this snapshot writes: small, and different for every snapshot and parent. */
  static streamOf(snapshotPath: string, parentPath?: string): Buffer {
    return Buffer.from(`btrfs-stream of ${basename(snapshotPath)}${parentPath === undefined ? '' : ` from ${basename(parentPath)}`}\n`);
  }

  private newUuid(): string {
    this.uuids += 1;
    return `00000000-0000-4000-8000-${String(this.uuids).padStart(12, '0')}`;
  }

  private run(args: readonly string[]): ProcessResult {
    const [group, action, ...rest] = args;
    const path = rest[rest.length - 1] ?? '';
    if (group === '--version') return { stdout: 'btrfs-progs v6.2\n', stderr: '' };
    if (group !== 'subvolume') throw new Error(`the fake btrfs does not run "${args.join(' ')}"`);
    if (action === 'show') return { stdout: showOutput(path, this.existing(args, path)), stderr: '' };
    if (action === 'snapshot') {
      const source = this.existing(args, rest[rest.length - 2] ?? '');
      this.subvolumes.set(path, { uuid: this.newUuid(), parentUuid: source.uuid, readOnly: rest.includes('-r') });
      mkdirSync(path);
      return { stdout: `Create a readonly snapshot of '${rest[1] ?? ''}' in '${path}'\n`, stderr: '' };
    }
    if (action === 'delete') {
      this.existing(args, path);
      this.subvolumes.delete(path);
      rmSync(path, { recursive: true, force: true });
      return { stdout: `Delete subvolume (no-commit): '${path}'\n`, stderr: '' };
    }
    throw new Error(`the fake btrfs does not run "${args.join(' ')}"`);
  }

  private existing(args: readonly string[], path: string): FakeSubvolume {
    const subvolume = this.subvolumes.get(path);
    if (subvolume === undefined) throw new ProcessError('btrfs', args, 1, `ERROR: cannot access '${path}': No such file or directory\n`);
    return subvolume;
  }

  /** `send [-p parent] snapshot`: the stream at once, then exit 0, or a cut-off stream and exit 1. */
  private send(process: FakeProcess, args: readonly string[]): void {
    const snapshot = args[args.length - 1] ?? '';
    const parent = args[1] === '-p' ? args[2] : undefined;
    const stream = FakeBtrfsWorld.streamOf(snapshot, parent);
    const stderr = this.failingSends.get(basename(snapshot).split('__')[0] ?? '');
    if (stderr === undefined) {
      process.stdout.write(stream);
      process.exitWith({ exitCode: 0 });
    } else {
      process.stdout.write(stream.subarray(0, 5));
      process.exitWith({ exitCode: 1, stderr });
    }
  }
}

/** A FakeRunner whose spawned processes are scripted by `onSpawn` as soon as they start. */
export class SendingRunner extends FakeRunner {
  constructor(
    answer: (args: readonly string[]) => Promise<ProcessResult>,
    private readonly onSpawn: (process: FakeProcess, args: readonly string[]) => void,
  ) {
    super(answer);
  }

  override spawn(command: string, args: readonly string[]): FakeProcess {
    const process = super.spawn(command, args);
    this.onSpawn(process, args);
    return process;
  }
}

/** `btrfs subvolume show` output as btrfs-progs 6.x prints it (the fields the parser reads). */
function showOutput(path: string, subvolume: FakeSubvolume): string {
  const name = basename(path);
  return [
    name,
    `\tName: \t\t\t${name}`,
    `\tUUID: \t\t\t${subvolume.uuid}`,
    `\tParent UUID: \t\t${subvolume.parentUuid ?? '-'}`,
    '\tReceived UUID: \t\t-',
    '\tCreation time: \t\t2026-12-01 02:00:00 +0000',
    '\tSubvolume ID: \t\t257',
    '\tGeneration: \t\t7',
    `\tFlags: \t\t\t${subvolume.readOnly ? 'readonly' : '-'}`,
    '\tSnapshot(s):',
    '',
  ].join('\n');
}
