// The upload rate cap: ours with --max-upload-rate, and the anchors measured the same way
// (rclone rcat --bwlimit, restic backup --limit-upload), each uploading the same send stream
// through a relay that counts the bytes it sends, on a path with no other limit near the
// cap. The steady rate (rate.ts) is judged against the cap.
import { join } from 'node:path';
import { backupMetrics, CLI, log, measure, run, timeFiles } from './harness';
import { formatRate, steadyOrWhole } from './rate';
import { type ByteSample, TcpRelay } from './relay';
import type { CapRecord } from './results';
import { oursBackup, rcloneEnv, rcloneUpload, resticEnv, resticInit, resticRepository, resticUpload } from './tools';
import { type Bench, type BenchDataset, writeSideConfig } from './units';

export interface CapPlan {
  readonly bytesPerSecond: number;
  /** As given (`--cap-rate`): passed to ours as written, which parses the same units. */
  readonly text: string;
  readonly rounds: number;
  readonly dataset: BenchDataset;
}

type CapTool = CapRecord['tool'];
const CAP_TOOLS: readonly CapTool[] = ['ours-backup', 'rclone-upload', 'restic-upload'];

/** Samples a relay's count once a second until stopped. */
class Sampler {
  private readonly samples: ByteSample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly relay: TcpRelay) {
    this.samples.push(relay.sample());
    this.timer = setInterval(() => this.samples.push(relay.sample()), 1000);
  }

  /** The samples from the first, counted from it. */
  stop(): ByteSample[] {
    clearInterval(this.timer);
    this.samples.push(this.relay.sample());
    const first = this.samples[0] ?? { ms: 0, bytes: 0 };
    return this.samples.map((sample) => ({ ms: Math.round(sample.ms - first.ms), bytes: sample.bytes - first.bytes }));
  }
}

export async function capRuns(bench: Bench, plan: CapPlan): Promise<CapRecord[]> {
  const relay = new TcpRelay({ upstream: bench.gateway.s3.endpoint, host: '127.0.0.1' });
  await relay.listen();
  try {
    const gateway = bench.gateway.at(relay.endpoint);
    const { dataset } = plan;
    const configFile = join(bench.work, 'config-cap.toml');
    const prefix = await writeSideConfig(bench, 'cap', dataset.subvolume, gateway, configFile);
    const rclone = rcloneEnv(gateway);
    const restic = resticEnv(gateway, join(bench.work, 'restic-cache'));
    const limitKiB = Math.max(1, Math.round(plan.bytesPerSecond / 1024));
    const records: CapRecord[] = [];
    for (let round = 1; round <= plan.rounds; round++) {
      const shift = (round - 1) % CAP_TOOLS.length;
      const order = [...CAP_TOOLS.slice(shift), ...CAP_TOOLS.slice(0, shift)];
      log(`upload rate cap ${formatRate(plan.bytesPerSecond)}, round ${round}/${plan.rounds}: ${order.join(', ')}`);
      for (const tool of order) {
        const name = `cap-${tool}-r${round}`;
        const key = `peers/${name}.btrfs`;
        const repository = resticRepository(gateway, `bench-restic-r${round}`);
        if (tool === 'restic-upload') await run(resticInit(repository), restic);
        const files = timeFiles(bench, name, tool !== 'ours-backup');
        const setting =
          tool === 'ours-backup'
            ? {
                command: oursBackup(CLI, configFile, files, 'full', { maxUploadRate: plan.text }),
                env: bench.envs.ours,
                cap: plan.bytesPerSecond,
                option: `--max-upload-rate ${plan.text}`,
              }
            : tool === 'rclone-upload'
              ? {
                  command: rcloneUpload(dataset.snapshot, gateway, key, { bwlimitBytesPerSecond: plan.bytesPerSecond }, files),
                  env: rclone,
                  cap: Math.round(plan.bytesPerSecond),
                  option: `--bwlimit ${Math.round(plan.bytesPerSecond)}B`,
                }
              : {
                  command: resticUpload(dataset.snapshot, repository, limitKiB, files),
                  env: restic,
                  cap: limitKiB * 1024,
                  option: `--limit-upload ${limitKiB}`,
                };
        const sampler = new Sampler(relay);
        let samples: ByteSample[] = [];
        let measured;
        try {
          measured = await measure(
            bench,
            { tool, dataset: dataset.info.id, round, name },
            setting.command,
            files,
            setting.env,
            tool === 'ours-backup' ? (stdout) => backupMetrics(stdout, 'full').bytes : () => dataset.info.streamBytes,
          );
        } finally {
          samples = sampler.stop();
        }
        const { record } = measured;
        const steady = steadyOrWhole(samples);
        log(
          `    steady ${formatRate(steady.bytesPerSecond)} over ${((steady.toMs - steady.fromMs) / 1000).toFixed(0)} s: ${((steady.bytesPerSecond / setting.cap - 1) * 100).toFixed(1)}% off the cap`,
        );
        records.push({
          tool,
          round,
          capBytesPerSecond: setting.cap,
          option: setting.option,
          wallSeconds: record.wallSeconds,
          streamBytes: record.streamBytes,
          main: record.main,
          ...(record.source === undefined ? {} : { source: record.source }),
          samples,
        });
        await bench.gateway.release(
          tool === 'ours-backup' ? `${prefix}/` : tool === 'rclone-upload' ? key : `bench-restic-r${round}/`,
          bench.envs.aws,
        );
      }
    }
    return records;
  } finally {
    await relay.close();
  }
}
