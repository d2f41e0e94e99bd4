import { formatBytes } from '@org/btrfs-s3-metrics';
import type { ProgressFacts } from './meter';

/** "45s", "3m05s", "2h05m", "4d03h": whole units, as an estimate deserves. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor((s % 86_400) / 3600))}h`;
}

/** "5.0 GiB of ~12.0 GiB", "12.3 GiB of ~12.0 GiB, estimate exceeded", "5.0 GiB" (no total, or a finished estimate). */
function amount(facts: ProgressFacts): string {
  const done = formatBytes(facts.bytes);
  if (facts.totalBytes === undefined || (facts.estimated && facts.state === 'completed')) return done;
  const total = `${facts.estimated ? '~' : ''}${formatBytes(facts.totalBytes)}`;
  return `${done} of ${total}${facts.exceeded ? ', estimate exceeded' : ''}`;
}

/** What is left: the ETA while it can be told, else how the transfer ended; nothing past an estimate (it says so). */
function remaining(facts: ProgressFacts): string | undefined {
  if (facts.state === 'completed') return 'done';
  if (facts.state === 'failed') return 'stopped';
  if (facts.etaSeconds !== undefined) return `ETA ${formatDuration(facts.etaSeconds)}`;
  return facts.totalBytes === undefined || facts.exceeded ? undefined : 'ETA --';
}

const rate = (facts: ProgressFacts) => `${formatBytes(facts.bytesPerSecond)}/s`;
const counts = (facts: ProgressFacts) => `chunks ${facts.chunks}, parts ${facts.parts}, retries ${facts.retries}`;

/**
 * The line a terminal shows under the bar's label: `bar` is cli-progress's, drawn only
 * with a total. Fields go in order of importance and stop where the terminal's width
 * does, so a narrow terminal loses the counts before the percent or the ETA:
 * `data [=====-----] 41% | 5.0 GiB of ~12.0 GiB | ETA 1m03s | 112.4 MiB/s | elapsed 45s | chunks 0, parts 40, retries 0`.
 */
export function barLine(label: string, facts: ProgressFacts, bar: string | undefined, width: number): string {
  const head = [label, ...(bar === undefined ? [] : [`[${bar}]`]), ...(facts.percent === undefined ? [] : [`${facts.percent}%`])];
  const fields = [amount(facts), remaining(facts), rate(facts), `elapsed ${formatDuration(facts.elapsedSeconds)}`, counts(facts)];
  let line = head.join(' ');
  for (const field of fields) {
    if (field === undefined) continue;
    const longer = `${line} | ${field}`;
    if (longer.length >= width) break;
    line = longer;
  }
  return line;
}

/**
 * The same facts as one log line, for the journal:
 * `data: uploaded 5.0 GiB of ~12.0 GiB (41%) at 112.4 MiB/s, elapsed 45s, ETA 1m03s; chunks 0, parts 40, retries 0`.
 */
export function logLine(label: string, verb: string, facts: ProgressFacts): string {
  const percent = facts.percent === undefined ? '' : ` (${facts.percent}%)`;
  const left = remaining(facts);
  return `${label}: ${verb} ${amount(facts)}${percent} at ${rate(facts)}, elapsed ${formatDuration(facts.elapsedSeconds)}${left === undefined ? '' : `, ${left}`}; ${counts(facts)}`;
}
