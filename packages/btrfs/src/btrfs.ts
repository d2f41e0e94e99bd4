import { BtrfsToS3Error, ExitCode } from '@org/btrfs-s3-core';
import { ProcessError, type ProcessRunner } from './process-runner';

/** A btrfs-progs command failed; the message names the command and its stderr. */
export class BtrfsError extends BtrfsToS3Error {
  constructor(action: string, cause: unknown) {
    super(`btrfs ${action} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { exitCode: ExitCode.Fatal, cause });
  }
}

/** Subvolume operations over btrfs-progs, through an injected process runner. */
export class Btrfs {
  constructor(
    private readonly runner: ProcessRunner,
    private readonly binary = 'btrfs',
  ) {}

  private async btrfs(action: string, args: readonly string[]): Promise<string> {
    try {
      return (await this.runner.run(this.binary, args)).stdout;
    } catch (error) {
      if (error instanceof ProcessError) throw new BtrfsError(action, error);
      throw error;
    }
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
}
