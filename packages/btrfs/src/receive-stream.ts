import { join } from 'node:path';
import { Writable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { Deferred } from './deferred';
import { BTRFS_SUPER_MAGIC, SUBVOLUME_ROOT_INODE, type DirectoryProbe } from './directory-probe';
import { BtrfsError, fileSystemFailure, messageOf, NotBtrfsError } from './errors';
import { exitError, type ProcessExit, type ProcessRunner, type SpawnedProcess } from '@org/btrfs-s3-core';

/** What a receive needs from its Btrfs: the runner, the binary and a way to look at the target. */
export interface ReceiveContext {
  readonly runner: ProcessRunner;
  readonly binary: string;
  readonly directories: DirectoryProbe;
  deleteSubvolume(path: string): Promise<void>;
}

interface Started {
  readonly child: SpawnedProcess;
  /** Names of the target's child directories before receive started: never ours to delete. */
  readonly before: ReadonlySet<string>;
  readonly stdout: Promise<{ text: string } | { error: unknown }>;
}

/** A Writable callback: called once the write (or final) is done or failed. */
export type Callback = (error?: Error | null) => void;

/**
 * A Writable that feeds `btrfs receive TARGET`. It finishes only after the program
 * exited 0, so a resolved `pipeline(send, receiver)` means the subvolume is complete.
 * On any failure (non-zero or early exit, truncated or aborted input, destroy) it
 * kills the program, deletes every subvolume that appeared in TARGET during this
 * receive, and fails with a BtrfsError naming the command and its stderr.
 *
 * No `-e`: receive then reads to our end of input, so a stream that stops before
 * its end command fails ("unexpected EOF in stream"), and data after it fails
 * too, instead of being dropped silently.
 */
export class ReceiveStream extends Writable {
  /**
   * The received subvolumes' paths: the subvolumes that appeared in the target during
   * this receive (never parsed from receive's output, which a name containing a newline
   * could forge). Settles after the program exited and, on failure, after cleanup.
   * When the input fails, pipeline settles before that: await `done` before
   * relying on the target directory.
   */
  readonly done: Promise<string[]>;
  private readonly outcome = new Deferred<string[]>();
  private readonly args: readonly string[];
  private started: Started | undefined;
  private startError: unknown;
  private settling: Promise<string[]> | undefined;
  private inputEnded = false;
  private abortReason: Error | undefined;

  constructor(
    private readonly context: ReceiveContext,
    private readonly targetDir: string,
  ) {
    super();
    // --chroot: receive confines itself to the target, so no path in a hostile stream can reach outside it.
    this.args = ['receive', '--chroot', targetDir];
    this.done = this.outcome.promise;
    // The same failure reaches the stream's 'error'; this only keeps an unawaited `done` from crashing the process.
    this.done.catch(() => undefined);
  }

  override _construct(callback: Callback): void {
    this.start().then(
      () => callback(),
      (error: unknown) => {
        this.startError = error;
        void this.settle();
        callback(error instanceof Error ? error : new BtrfsError('receive', error));
      },
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: Callback): void {
    this.running().stdin.write(chunk, (error) => {
      // EPIPE: receive exited before reading everything; its exit status says why.
      if (error) this.settle().then(() => callback(), callback);
      else callback();
    });
  }

  override _final(callback: Callback): void {
    this.inputEnded = true;
    this.settle().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: Callback): void {
    if (!this.writableFinished) {
      this.abortReason ??= error ?? new Error('the receive stream was destroyed before its input ended');
      this.started?.child.kill();
    }
    this.settle().then(
      () => callback(error),
      () => callback(error),
    );
  }

  private async start(): Promise<void> {
    let before: ReadonlySet<string>;
    try {
      const type = await this.context.directories.filesystemType(this.targetDir);
      if (type !== BTRFS_SUPER_MAGIC) throw new NotBtrfsError('receive', this.targetDir, type);
      before = new Set((await this.context.directories.childDirectories(this.targetDir)).map((entry) => entry.name));
    } catch (error) {
      throw fileSystemFailure('receive', error);
    }
    const child = this.context.runner.spawn(this.context.binary, this.args);
    // Write failures (EPIPE) also reach the write callbacks; the exit status explains them.
    child.stdin.on('error', () => undefined);
    const stdout = text(child.stdout).then(
      (output) => ({ text: output }),
      (error: unknown) => ({ error }),
    );
    this.started = { child, before, stdout };
    // Exiting before we end its input is always a failure; fail now rather than at the next write.
    void child.completion.then(() => {
      if (this.settling === undefined) this.settle().catch((error: unknown) => this.destroy(error instanceof Error ? error : undefined));
    });
  }

  private running(): SpawnedProcess {
    // Node calls _write only after _construct succeeded.
    if (this.started === undefined) throw new Error('btrfs receive written to before it started');
    return this.started.child;
  }

  /** Ends (or, once aborted, kills) the program and decides the outcome, once. */
  private settle(): Promise<string[]> {
    if (this.settling === undefined) {
      this.settling = this.finish();
      this.outcome.resolve(this.settling);
    }
    return this.settling;
  }

  private async finish(): Promise<string[]> {
    const started = this.started;
    if (started === undefined) throw this.startError ?? new BtrfsError('receive', this.abortReason ?? 'destroyed before it started');
    if (this.abortReason === undefined) started.child.stdin.end();
    else started.child.kill();
    const [exit, stdout] = await Promise.all([started.child.completion, started.stdout]);
    let failure = this.failure(exit) ?? ('error' in stdout ? stdout.error : undefined);
    if (failure === undefined) {
      try {
        const received = (await this.createdSince(started.before)).map((name) => join(this.targetDir, name));
        if (received.length > 0) return received;
        failure = new Error(`\`${this.commandLine()}\` created no subvolume in ${this.targetDir}`);
      } catch (error) {
        failure = error;
      }
    }
    const cleanup = await this.deletePartial(started.before);
    throw new BtrfsError('receive', failure, cleanup);
  }

  /** The subvolumes in the target that were not there before this receive. */
  private async createdSince(before: ReadonlySet<string>): Promise<string[]> {
    const entries = await this.context.directories.childDirectories(this.targetDir);
    return entries.filter((entry) => !before.has(entry.name) && entry.inode === SUBVOLUME_ROOT_INODE).map((entry) => entry.name);
  }

  /** Why the receive failed, if it did: an abort or an early exit fails even a clean-looking exit. */
  private failure(exit: ProcessExit): Error | undefined {
    const exited = exitError(this.context.binary, this.args, exit);
    if (this.abortReason !== undefined) {
      const how = exited === undefined ? '' : ` (${exited.message})`;
      return new Error(`\`${this.commandLine()}\` was stopped: ${this.abortReason.message}${how}`, { cause: this.abortReason });
    }
    if (exited !== undefined) return exited;
    if (!this.inputEnded) return new Error(`\`${this.commandLine()}\` exited before the end of its input`);
    return undefined;
  }

  /** Deletes the subvolumes that appeared in the target during this receive; says what it could not. */
  private async deletePartial(before: ReadonlySet<string>): Promise<string | undefined> {
    let created;
    try {
      created = await this.createdSince(before);
    } catch (error) {
      return `could not list ${this.targetDir} to delete partially received subvolumes: ${messageOf(error)}`;
    }
    const problems: string[] = [];
    for (const name of created) {
      const path = join(this.targetDir, name);
      try {
        await this.context.deleteSubvolume(path);
      } catch (error) {
        problems.push(`could not delete partially received subvolume ${path}: ${messageOf(error)}`);
      }
    }
    return problems.length > 0 ? problems.join('; ') : undefined;
  }

  private commandLine(): string {
    return [this.context.binary, ...this.args].join(' ');
  }
}
