import type { Readable } from 'node:stream';
import { dirname, join, resolve } from 'node:path';
import { errnoCode, mapBounded } from '@org/btrfs-s3-core';
import { BTRFS_SUPER_MAGIC, nodeDirectoryProbe, SUBVOLUME_ROOT_INODE, type DirectoryProbe } from './directory-probe';
import { BtrfsError, fileSystemFailure, NotBtrfsError } from './errors';
import { ProcessError, type ProcessRunner } from '@org/btrfs-s3-core';
import { ReceiveStream } from './receive-stream';
import { sendStream } from './send-stream';
import { parseSubvolumeShow, type SubvolumeInfo } from './subvolume-info';

/** `btrfs subvolume show` processes at once while a directory's snapshots are listed. */
const SHOW_CONCURRENCY = 4;

export interface SendOptions {
  /** A read-only snapshot the receiver already has: send only the difference (`-p`). */
  readonly parent?: string;
  /**
   * `reused`: the pipe is read into a few reused buffers, and the stream is a
   * RecyclingReadable whose consumer hands each chunk back once done with it (as the
   * uploader's splitter does); much cheaper per byte. `fresh` (the default): a new Buffer
   * per read, for a consumer that keeps what it reads (an encoder).
   */
  readonly buffers?: 'reused' | 'fresh';
}

/** Subvolume operations over btrfs-progs, through an injected process runner. */
export class Btrfs {
  constructor(
    private readonly runner: ProcessRunner,
    private readonly binary = 'btrfs',
    private readonly directories: DirectoryProbe = nodeDirectoryProbe,
  ) {}

  private async btrfs(action: string, args: readonly string[]): Promise<string> {
    try {
      return (await this.runner.run(this.binary, args)).stdout;
    } catch (error) {
      if (error instanceof ProcessError) throw new BtrfsError(action, error);
      throw error;
    }
  }

  /** `btrfs --version`'s first line, e.g. `btrfs-progs v6.2`; throws BtrfsError when the program cannot run. */
  async version(): Promise<string> {
    return (await this.btrfs('--version', ['--version'])).split('\n')[0]?.trim() ?? '';
  }

  async createSubvolume(path: string): Promise<void> {
    await this.btrfs('subvolume create', ['subvolume', 'create', path]);
  }

  /** A read-only snapshot of `source` at `destination`, the only kind `btrfs send` accepts. */
  async createReadOnlySnapshot(source: string, destination: string): Promise<void> {
    await this.btrfs('snapshot', ['subvolume', 'snapshot', '-r', source, destination]);
  }

  async deleteSubvolume(path: string): Promise<void> {
    await this.btrfs('subvolume delete', ['subvolume', 'delete', path]);
  }

  /** `btrfs subvolume show PATH` as a typed record. */
  async showSubvolume(path: string): Promise<SubvolumeInfo> {
    const output = await this.btrfs('subvolume show', ['subvolume', 'show', path]);
    try {
      return parseSubvolumeShow(path, output);
    } catch (error) {
      throw new BtrfsError('subvolume show', error);
    }
  }

  /**
   * Whether `path` is on a Btrfs filesystem, or, when it does not exist yet, whether
   * it would be (its nearest existing ancestor is): checked before a run creates it.
   */
  async isOnBtrfs(path: string): Promise<boolean> {
    let current = resolve(path);
    for (;;) {
      try {
        return (await this.directories.filesystemType(current)) === BTRFS_SUPER_MAGIC;
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT' || current === dirname(current)) throw fileSystemFailure('statfs', error);
        current = dirname(current);
      }
    }
  }

  /**
   * The names of the subvolumes directly inside `dir` (not nested deeper), in code-unit
   * order. Plain directories are skipped; so are the empty placeholders a snapshot
   * leaves where the source had nested subvolumes (their inode is not 256). No process
   * is run: for callers that need only the names (local retention).
   */
  async listSubvolumeNames(dir: string): Promise<string[]> {
    let names: string[];
    try {
      const type = await this.directories.filesystemType(dir);
      if (type !== BTRFS_SUPER_MAGIC) throw new NotBtrfsError('list subvolumes', dir, type);
      const children = await this.directories.childDirectories(dir);
      names = children.filter((child) => child.inode === SUBVOLUME_ROOT_INODE).map((child) => child.name);
    } catch (error) {
      throw fileSystemFailure('list subvolumes', error);
    }
    // Code-unit order, not locale order: the same on every machine, and timestamped names sort by time.
    return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** listSubvolumeNames with what `btrfs subvolume show` says of each (UUIDs, read-only flag). */
  async listSubvolumes(dir: string): Promise<SubvolumeInfo[]> {
    const names = await this.listSubvolumeNames(dir);
    // A `btrfs subvolume show` (about 12 ms) per snapshot, side by side: a run lists the snapshots three times or more.
    return mapBounded(names, SHOW_CONCURRENCY, (name) => this.showSubvolume(join(dir, name)));
  }

  /**
   * `btrfs send [-p parent] snapshot` as a stream, read once with backpressure.
   * It errors (never ends) when the program fails, even after some output, and
   * destroying it kills the program.
   */
  send(snapshotPath: string, options: SendOptions = {}): Readable {
    const args = ['send', ...(options.parent === undefined ? [] : ['-p', options.parent]), snapshotPath];
    return sendStream(this.runner.spawn(this.binary, args), this.binary, args, options.buffers ?? 'fresh');
  }

  /**
   * A Writable feeding `btrfs receive targetDir`; see ReceiveStream. Pipe a send
   * stream into it, then await its `done` for the received subvolumes' paths.
   */
  receive(targetDir: string): ReceiveStream {
    return new ReceiveStream(
      { runner: this.runner, binary: this.binary, directories: this.directories, deleteSubvolume: (path) => this.deleteSubvolume(path) },
      targetDir,
    );
  }
}
