import { basename, dirname, extname, join } from 'node:path';
import type { RemoteConfig } from './schema';

/** The commands that keep metrics files of their own beside the backup's. */
export type MetricsCommand = 'drill' | 'verify' | 'prune' | 'inventory';

/**
 * `metrics.json` -> `metrics-verify.json`, `btrfs-to-s3.prom` -> `btrfs-to-s3-verify.prom`:
 * a command's file beside the backup's, never over it, so no command rewrites another's
 * series (node_exporter's textfile collector reads every `*.prom` in its directory).
 */
export function commandFilePath(path: string, command: MetricsCommand): string {
  const extension = extname(path);
  return join(dirname(path), `${basename(path, extension)}-${command}${extension}`);
}

/** A command's JSON record (beside `global.metrics_path`) and, when one is configured, its textfile (beside `global.prometheus_textfile`). */
export function metricsFiles(
  config: RemoteConfig,
  command: MetricsCommand,
): { readonly json: string; readonly textfile: string | undefined } {
  const { metrics_path: json, prometheus_textfile: textfile } = config.global;
  return { json: commandFilePath(json, command), textfile: textfile === undefined ? undefined : commandFilePath(textfile, command) };
}
