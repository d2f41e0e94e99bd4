import { spawn } from 'node:child_process';
import { ProcessError, type ProcessExit, type ProcessRunner, type SpawnedProcess, type SpawnOptions } from '@org/btrfs-s3-core';
import { TailBuffer } from './tail-buffer';

/** Stderr kept per process: enough for btrfs-progs' error lines, bounded for a chatty program. */
export const STDERR_LIMIT = 64 * 1024;

function spawnStreaming(command: string, args: readonly string[], options: SpawnOptions = {}): SpawnedProcess {
  const child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal });
  const stderr = new TailBuffer(STDERR_LIMIT);
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const completion = new Promise<ProcessExit>((resolve) => {
    let error: Error | undefined;
    child.once('error', (cause) => {
      error = cause;
    });
    // 'close' follows 'error' too (Node reports ENOENT as exit code -2), so it alone settles.
    child.once('close', (code, signal) => {
      const started = child.pid !== undefined;
      resolve({ exitCode: started ? code : null, signal, stderr: stderr.text(), ...(error === undefined ? {} : { error }) });
    });
  });
  return {
    pid: child.pid,
    stdin: child.stdin,
    stdout: child.stdout,
    completion,
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** The real runner: spawns without a shell (arguments are never interpreted). */
export const spawnProcessRunner: ProcessRunner = {
  run(command, args, options = {}) {
    return new Promise((resolve, reject) => {
      const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      let failure: Error | undefined;
      child.once('error', (error) => {
        failure = error;
      });
      // 'close' follows 'error' too (a start failure, or the abort that killed the program), so it alone settles.
      child.once('close', (code, signal) => {
        const result = { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
        if (code === 0 && failure === undefined) resolve(result);
        else if (child.pid === undefined) reject(new ProcessError(command, args, null, failure?.message ?? result.stderr, failure));
        else reject(new ProcessError(command, args, code, result.stderr, failure, signal));
      });
    });
  },
  spawn: spawnStreaming,
};
