import { PassThrough } from 'node:stream';
import { Deferred } from '../deferred';
import type { ChildDirectory, DirectoryProbe } from '../directory-probe';
import type { ProcessExit, ProcessResult, ProcessRunner, SpawnedProcess } from '@org/btrfs-s3-core';

/** A scripted long-lived process: the test writes its stdout and decides how it exits. */
export class FakeProcess implements SpawnedProcess {
  readonly pid = 4242;
  readonly stdin = new PassThrough();
  readonly stdout: PassThrough;
  readonly kills: NodeJS.Signals[] = [];
  /** Everything written to stdin, and whether stdin was ended. */
  readonly input: Buffer[] = [];
  inputEnded = false;
  private readonly inputEnd = new Deferred<void>();
  /** Settles when stdin is ended, as a real program sees EOF. */
  readonly endOfInput = this.inputEnd.promise;
  private readonly exit = new Deferred<ProcessExit>();
  readonly completion = this.exit.promise;
  private exited = false;

  constructor(options: { stdoutHighWaterMark?: number } = {}) {
    this.stdout = new PassThrough({ highWaterMark: options.stdoutHighWaterMark });
    this.stdin.on('data', (chunk: Buffer) => this.input.push(chunk));
    this.stdin.on('end', () => {
      this.inputEnded = true;
      this.inputEnd.resolve();
    });
  }

  /** Ends stdout and settles `completion`, like a real program exiting. */
  exitWith(exit: Partial<ProcessExit> & Pick<ProcessExit, 'exitCode'>): void {
    if (this.exited) return;
    this.exited = true;
    this.stdout.end();
    this.exit.resolve({ signal: null, stderr: '', ...exit });
  }

  /** A real program dies from SIGTERM; so does this one. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exited) return;
    this.kills.push(signal);
    this.exitWith({ exitCode: null, signal });
  }
}

/** Records every command; answers `run` from a script and hands out FakeProcesses for `spawn`. */
export class FakeRunner implements ProcessRunner {
  readonly calls: string[][] = [];
  readonly spawned: FakeProcess[] = [];
  private readonly first = new Deferred<FakeProcess>();
  /** The first process spawned, whether it already was or is yet to be. */
  readonly process = this.first.promise;

  constructor(
    private readonly answer: (args: readonly string[]) => Promise<ProcessResult> = async () => ({ stdout: '', stderr: '' }),
    private readonly processOptions: { stdoutHighWaterMark?: number } = {},
  ) {}

  run(command: string, args: readonly string[]): Promise<ProcessResult> {
    this.calls.push([command, ...args]);
    return this.answer(args);
  }

  spawn(command: string, args: readonly string[]): FakeProcess {
    this.calls.push([command, ...args]);
    const process = new FakeProcess(this.processOptions);
    this.spawned.push(process);
    this.first.resolve(process);
    return process;
  }
}

/** A directory probe answering from a script: each listing call takes the next listing (the last repeats). */
export function fakeDirectories(type: number, listings: ChildDirectory[][] | Error): DirectoryProbe & { listed: string[] } {
  const listed: string[] = [];
  return {
    listed,
    async filesystemType() {
      return type;
    },
    async childDirectories(dir) {
      listed.push(dir);
      if (listings instanceof Error) throw listings;
      const listing = listings.length > 1 ? listings.shift() : listings[0];
      return listing ?? [];
    },
  };
}

/** A Node-style filesystem error, as fs/promises rejects with. */
export function errnoError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
