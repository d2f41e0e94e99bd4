import type { Logger, ProgressEvent, ProgressListener } from '@org/btrfs-s3-core';
import { Format, MultiBar, type Options, type Params, type SingleBar } from 'cli-progress';
import type { LogOutput } from './log-output';
import { TransferMeter } from './meter';
import { barLine, logLine } from './text';

/** Draws bars on a terminal; log lines written meanwhile go through `logOutput`, above the bars. */
export interface BarMode {
  readonly mode: 'bar';
  readonly stream: NodeJS.WritableStream;
  readonly logOutput?: LogOutput;
  /** Milliseconds; default Date.now. */
  readonly now?: () => number;
}

/** No terminal (systemd, a pipe, --json): a log line per transfer every `intervalSeconds`. */
export interface LogMode {
  readonly mode: 'log';
  readonly logger: Logger;
  readonly intervalSeconds: number;
  readonly now?: () => number;
}

/** How often a bar is redrawn: its elapsed time and rate move even between events. */
const REDRAWS_PER_SECOND = 4;

/**
 * Renders the libraries' progress events, measuring each transfer with one clock
 * (TransferMeter: the rate over a moving window, elapsed time, percent and ETA when a
 * total is known, "~" when it is an estimate). On a terminal cli-progress draws a bar
 * per transfer; otherwise a log line carries the same facts now and then, so the
 * journal shows a long transfer is alive.
 */
export function progressRenderer(options: BarMode | LogMode): ProgressListener {
  const now = options.now ?? Date.now;
  return options.mode === 'bar' ? new Bars(options, now).listener : logLines(options, now);
}

interface Drawn {
  readonly meter: TransferMeter;
  readonly bar: SingleBar;
}

/** One MultiBar while transfers run; it stops (leaving their last lines) when the last one ends. */
class Bars {
  private multibar: MultiBar | undefined;
  private readonly drawn = new Map<string, Drawn>();

  constructor(
    private readonly options: BarMode,
    private readonly now: () => number,
  ) {}

  readonly listener: ProgressListener = (event) => {
    const drawn = this.drawn.get(event.label) ?? this.start(event);
    drawn.meter.record(event);
    const facts = drawn.meter.facts();
    // cli-progress fills the bar from value / total; a finished estimate is full whatever it guessed.
    drawn.bar.setTotal(facts.exceeded || (facts.estimated && facts.state === 'completed') ? event.bytes : (facts.totalBytes ?? 0));
    drawn.bar.update(event.bytes);
    if (event.done) this.end(event.label);
  };

  private start(event: ProgressEvent): Drawn {
    const multibar = this.multibar ?? this.open();
    const meter = new TransferMeter(event, this.now);
    const format = (options: Options, params: Params) => {
      const facts = meter.facts();
      const bar = facts.totalBytes === undefined ? undefined : Format.BarFormat(params.progress, options);
      return barLine(event.label, facts, bar, params.maxWidth);
    };
    const drawn = { meter, bar: multibar.create(event.totalBytes ?? 0, event.bytes, {}, { format }) };
    this.drawn.set(event.label, drawn);
    return drawn;
  }

  private open(): MultiBar {
    const multibar = new MultiBar({
      stream: this.options.stream,
      fps: REDRAWS_PER_SECOND,
      barsize: 24,
      barCompleteChar: '=',
      barIncompleteChar: '-',
      hideCursor: true,
      // Log lines printed above the bars wrap as usual; barLine keeps the bars within the width.
      linewrap: true,
      clearOnComplete: false,
      stopOnComplete: false,
      // cli-progress redraws a bar only when its text changed, so one under a fresh log line would wait for that.
      forceRedraw: true,
    });
    this.options.logOutput?.route((text) => multibar.log(text));
    this.multibar = multibar;
    return multibar;
  }

  private end(label: string): void {
    this.drawn.delete(label);
    if (this.drawn.size > 0 || this.multibar === undefined) return;
    const multibar = this.multibar;
    this.multibar = undefined;
    // stop() draws the bars' last state but not the log lines still waiting: update() prints those first.
    multibar.update();
    multibar.stop();
    this.options.logOutput?.route(undefined);
  }
}

function logLines(options: LogMode, now: () => number): ProgressListener {
  const transfers = new Map<string, { meter: TransferMeter; lastLog: number }>();
  return (event) => {
    const transfer = transfers.get(event.label);
    if (transfer === undefined) {
      transfers.set(event.label, { meter: new TransferMeter(event, now), lastLog: now() });
      return;
    }
    transfer.meter.record(event);
    if (event.done) transfers.delete(event.label);
    else if (now() - transfer.lastLog >= options.intervalSeconds * 1000) {
      transfer.lastLog = now();
      options.logger.info(logLine(event.label, event.phase === 'upload' ? 'uploaded' : 'restored', transfer.meter.facts()));
    }
  };
}
