// The results page's sections on our own process: the fixed cost of a run (the start-up
// case) and where the time goes (CPU profiles of extra runs).
import { bytes, f1, f2, pct, range, table } from './report-format';
import type { ProfiledRun, Results, StartupResult } from './results';
import { type Summary, summarize } from './stats';

const STARTUP_KINDS: Record<StartupResult['kind'], string> = {
  release: "the release's launcher, as `scripts/release.sh` last built it",
  checkout: "the checkout's `apps/cli/bin/run.js` (no release built)",
  given: 'the executable named with `--executable`',
};

export interface StartupStats {
  readonly firstRequest: Summary;
  readonly wall: Summary;
  readonly bareNode: Summary;
  /** Median time to the first request / median bare Node start. */
  readonly ratio: number;
}

export function startupStats(startup: StartupResult): StartupStats | undefined {
  if (startup.runs.length === 0) return undefined;
  const firstRequest = summarize(startup.runs.map((run) => run.firstRequestSeconds));
  const bareNode = summarize(startup.runs.map((run) => run.bareNodeSeconds));
  return {
    firstRequest,
    wall: summarize(startup.runs.map((run) => run.wallSeconds)),
    bareNode,
    ratio: firstRequest.median / bareNode.median,
  };
}

const ms = (seconds: number) => (seconds * 1000).toFixed(0);

/** The fixed cost of a run, for the terminal. */
export function startupLines(startup: StartupResult): string[] {
  const s = startupStats(startup);
  if (s === undefined) return [];
  return [
    `fixed cost of a run (${startup.executable} ${startup.command}, n=${s.firstRequest.n}): exec to first S3 request ${ms(s.firstRequest.median)} ms (${ms(s.firstRequest.min)}-${ms(s.firstRequest.max)}), ` +
      `${f1(s.ratio)} x a bare node -e 0 (${ms(s.bareNode.median)} ms); exec to exit ${ms(s.wall.median)} ms`,
  ];
}

export function startupSection(startup: StartupResult | undefined): string[] {
  const s = startup === undefined ? undefined : startupStats(startup);
  if (startup === undefined || s === undefined) return [];
  const out: string[] = ['## Fixed cost of a run', ''];
  out.push(
    `\`btrfs-to-s3 ${startup.command}\` on an empty prefix, ${s.firstRequest.n} runs after an untimed one, each just after a bare \`node -e 0\` of the`,
  );
  out.push('Node it runs on. The time from exec until its first S3 request reaches the gateway (through a relay that notes it) is what');
  out.push('every run pays before any work: Node, oclif, the config, the AWS SDK ([release.md](release.md#start-up)).');
  out.push(`Timed: ${STARTUP_KINDS[startup.kind]}, \`${startup.executable}\`.`);
  out.push('');
  out.push(
    table(
      ['', 'ms, median (min-max)'],
      [
        ['exec to the first S3 request', range(s.firstRequest, ms)],
        ['exec to exit', range(s.wall, ms)],
        ['bare `node -e 0`', range(s.bareNode, ms)],
      ],
    ),
  );
  out.push('');
  out.push(`The first request goes out ${f1(s.ratio)} x a bare Node start after exec (medians).`);
  out.push('');
  return out;
}

const PROFILE_TITLES: Record<ProfiledRun['tool'], string> = {
  'ours-backup': 'full backup',
  'ours-restore': 'restore (`--verify none`)',
  inc: 'incremental',
};

/** Where our own process spends its time, from the extra runs under `node --cpu-prof`. */
export function profileSection(results: Results): string[] {
  const profiles = results.profiles ?? [];
  if (profiles.length === 0) return [];
  const out: string[] = ['## CPU profiles of our runs', ''];
  out.push(
    `One extra run of each under \`node --cpu-prof\` (the checkout's \`apps/cli/bin/run.js\` with its Node flags), not part of any comparison: profiling`,
  );
  out.push('slows it down. Self time of our process by category; "idle" is its main thread waiting on I/O (the gateway, the pipe from');
  out.push('`btrfs send`, `btrfs receive` taking the data). V8 samples wall-clock time: on a busy machine, time spent waiting for a core');
  out.push(
    'counts against the function that was running. The raw profiles are in `bench/results/logs/profiles/` (Chrome DevTools opens them).',
  );
  out.push('');
  const categories = [...new Set(profiles.flatMap((p) => p.summary.categories.map((c) => c.name)))];
  const cell = (run: ProfiledRun, name: string) => {
    const found = run.summary.categories.find((c) => c.name === name);
    return found === undefined ? '-' : `${pct(found.share)} (${f1(found.ms / 1000)} s)`;
  };
  const order = (name: string) => Math.max(...profiles.map((run) => run.summary.categories.find((c) => c.name === name)?.share ?? 0));
  out.push(
    table(
      ['self time', ...profiles.map((run) => `${PROFILE_TITLES[run.tool]}: ${f2(run.wallSeconds)} s, ${bytes(run.streamBytes)}`)],
      categories.sort((a, b) => order(b) - order(a)).map((name) => [name, ...profiles.map((run) => cell(run, name))]),
    ),
  );
  out.push('');
  for (const run of profiles) {
    out.push(
      `Functions with the most self time, ${PROFILE_TITLES[run.tool]}${run.summary.threads > 1 ? ` (${run.summary.threads} threads)` : ''}:`,
    );
    out.push('');
    out.push(
      table(
        ['function', 'self s', 'share'],
        run.summary.top.slice(0, 8).map((entry) => [`\`${entry.name}\``, f2(entry.ms / 1000), pct(entry.share)]),
      ),
    );
    out.push('');
  }
  return out;
}
