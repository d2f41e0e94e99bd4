import { type Config, type State, writeFileAtomic } from '@org/btrfs-s3-core';
import { renderPrometheusTextfile, type SubvolumeRunMetrics } from '@org/btrfs-s3-metrics';
import type { BackupResult } from './schemas';

/** The run's outcomes as JSON (always) and a Prometheus textfile (when configured), both written atomically. */
export async function writeRunMetrics(config: Config, result: BackupResult, state: State, finishedAt: Date): Promise<void> {
  const finished = finishedAt.getTime() / 1000;
  const runs = result.outcomes.flatMap((outcome): SubvolumeRunMetrics[] => {
    if (outcome.result === 'published') return [outcome.metrics];
    if (outcome.result !== 'failed') return [];
    return [
      {
        subvolume: outcome.subvolume,
        kind: outcome.kind,
        ok: false,
        bytes: 0,
        chunks: 0,
        parts: 0,
        retries: 0,
        elapsedSeconds: 0,
        finishedAt: finished,
      },
    ];
  });
  await writeFileAtomic(
    config.global.metrics_path,
    `${JSON.stringify({ finished_at: finishedAt.toISOString(), outcomes: result.outcomes }, null, 2)}\n`,
    0o644,
  );
  if (config.global.prometheus_textfile !== undefined) {
    const lastSuccess = Object.entries(state.subvolumes).map(([subvolume, entry]) => ({
      subvolume,
      timestamp: new Date(entry.last_backup_at).getTime() / 1000,
    }));
    await writeFileAtomic(config.global.prometheus_textfile, renderPrometheusTextfile(runs, lastSuccess), 0o644);
  }
}
