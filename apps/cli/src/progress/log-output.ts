import { Writable } from 'node:stream';

/**
 * The logger's stream: stderr, except while a progress bar is drawn there, when each
 * line goes to the bar's printer (cli-progress's MultiBar.log, which prints it above
 * the bar and redraws the bar below). Writing to stderr directly then would land in
 * the middle of the bar's line. It passes on stderr's `isTTY` and `fd`, so the
 * logger colours and detects the journal as it would on stderr itself.
 */
export class LogOutput extends Writable {
  readonly isTTY: boolean;
  readonly fd: number | undefined;
  private printer: ((text: string) => void) | undefined;

  constructor(private readonly target: NodeJS.WritableStream & { readonly isTTY?: boolean; readonly fd?: number }) {
    super({ decodeStrings: false });
    this.isTTY = target.isTTY === true;
    this.fd = target.fd;
  }

  /** From now on, lines go to `printer`; `undefined` sends them to the target again. */
  route(printer: ((text: string) => void) | undefined): void {
    this.printer = printer;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Done at once, not when stderr calls back: a line still queued here when the process exits would be lost.
    if (this.printer === undefined) this.target.write(chunk);
    else this.printer(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    callback();
  }
}

/** This process's stderr for log lines; the progress bars on stderr route it. */
export const stderrLog = new LogOutput(process.stderr);
