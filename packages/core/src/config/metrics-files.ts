import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { errnoCode } from '../errors';
import type { Logger } from '../logging/logger';
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

/**
 * A metrics record as last written, parsed by `parse`: `empty` when the file does not
 * exist, and when it is damaged (with a warning): a record is only a report, so a
 * damaged one is replaced, never a reason to stop the command writing it.
 */
export async function readMetricsRecord<T>(path: string, logger: Logger, parse: (document: unknown) => T, empty: () => T): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return empty();
    throw error;
  }
  try {
    return parse(JSON.parse(text));
  } catch (error) {
    logger.warn(
      `${path} is damaged and is replaced; the times it kept are lost (${error instanceof Error ? error.message : String(error)})`,
    );
    return empty();
  }
}
