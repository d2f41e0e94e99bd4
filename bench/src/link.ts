// The rate-limited runs: the client (ours, awscli, rclone, each with its own defaults) in a
// network namespace of its own, joined to the gateway's by a veth pair whose client end is
// shaped with tbf (netns-link.sh); the gateway stays here and listens on the veth's other
// end too. With --link-rtt a delay relay sits in front of the gateway instead.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sh } from './exec';
import { backupMetrics, CLI, errorText, log, measure, NETNS_LINK, parseEnvFile, run, timeFiles } from './harness';
import { formatRate } from './rate';
import { TcpRelay } from './relay';
import type { LinkRecord, ToolId } from './results';
import { awsUpload, inNamespace, oursBackup, q, rcloneEnv, rcloneUpload } from './tools';
import { type Bench, type BenchDataset, writeSideConfig } from './units';

/** The client's namespace and the veth pair to it, made and removed by netns-link.sh. */
export class NetnsLink {
  private constructor(
    readonly dir: string,
    readonly netns: string,
    readonly hostInterface: string,
    readonly hostAddress: string,
  ) {}

  static async create(dir: string): Promise<NetnsLink> {
    await run(`${q(NETNS_LINK)} create ${q(dir)}`);
    const file = join(dir, 'env');
    const env = parseEnvFile(await readFile(file, 'utf8'));
    const get = (key: string) => {
      const value = env[key];
      if (value === undefined || value === '') throw new Error(`${file} has no ${key}`);
      return value;
    };
    return new NetnsLink(dir, get('LINK_NETNS'), get('LINK_HOST_IF'), get('LINK_HOST_ADDR'));
  }

  /** tbf on the client's end at this rate. */
  async shape(bitsPerSecond: number): Promise<void> {
    await run(`${q(NETNS_LINK)} shape ${q(this.dir)} ${bitsPerSecond}`);
  }

  /** Removes the shaping; also after an interrupt (the namespace itself goes at cleanup). */
  async unshape(): Promise<void> {
    await sh(`${q(NETNS_LINK)} shape ${q(this.dir)} 0`);
  }

  /** Bytes the gateway's end has received from the client so far. */
  async receivedBytes(): Promise<number> {
    return Number((await readFile(`/sys/class/net/${this.hostInterface}/statistics/rx_bytes`, 'utf8')).trim());
  }

  /** Removes the pair and the namespace; a cleanup step, so it runs even after an interrupt. */
  static destroyCommand(dir: string): string {
    return `${q(NETNS_LINK)} destroy ${q(dir)}`;
  }
}

export interface LinkPlan {
  readonly ratesBitsPerSecond: readonly number[];
  readonly rounds: number;
  readonly rttMs: number;
  readonly dataset: BenchDataset;
}

type LinkTool = Extract<ToolId, 'ours-backup' | 'aws-upload' | 'rclone-upload'>;
const LINK_TOOLS: readonly LinkTool[] = ['ours-backup', 'aws-upload', 'rclone-upload'];

/** Every tool once per rate per round, the order rotated; returns the runs. */
export async function linkRuns(bench: Bench, link: NetnsLink, plan: LinkPlan): Promise<LinkRecord[]> {
  const port = new URL(bench.gateway.s3.endpoint).port;
  let relay: TcpRelay | undefined;
  if (plan.rttMs > 0) {
    relay = new TcpRelay({ upstream: bench.gateway.s3.endpoint, host: link.hostAddress, delayMs: plan.rttMs / 2 });
    await relay.listen();
  }
  try {
    const endpoint = relay?.endpoint ?? `http://${link.hostAddress}:${port}`;
    const gateway = bench.gateway.at(endpoint);
    const { dataset } = plan;
    const configFile = join(bench.work, `config-link-${dataset.info.id}.toml`);
    const prefix = await writeSideConfig(bench, 'link', dataset.subvolume, gateway, configFile);
    const rcloneLinkEnv = rcloneEnv(gateway);
    const records: LinkRecord[] = [];
    let turn = 0;
    for (let round = 1; round <= plan.rounds; round++) {
      for (const rate of plan.ratesBitsPerSecond) {
        await link.shape(rate);
        const shift = turn++ % LINK_TOOLS.length;
        const order = [...LINK_TOOLS.slice(shift), ...LINK_TOOLS.slice(0, shift)];
        log(
          `rate-limited link ${formatRate(rate / 8)}${plan.rttMs > 0 ? ` + ${plan.rttMs} ms` : ''}, round ${round}/${plan.rounds}: ${order.join(', ')}`,
        );
        for (const tool of order) {
          const name = `link-${tool}-${rate}-r${round}`;
          const key = `peers/${name}.btrfs`;
          const pipeline = tool !== 'ours-backup';
          const files = timeFiles(bench, name, pipeline);
          const command =
            tool === 'ours-backup'
              ? oursBackup(CLI, configFile, files, 'full')
              : tool === 'aws-upload'
                ? awsUpload({ snapshot: dataset.snapshot }, gateway, key, dataset.info.streamBytes, files)
                : rcloneUpload(dataset.snapshot, gateway, key, {}, files);
          const env = tool === 'ours-backup' ? bench.envs.ours : tool === 'aws-upload' ? bench.envs.aws : rcloneLinkEnv;
          const before = await link.receivedBytes();
          const { record } = await measure(
            bench,
            { tool, dataset: dataset.info.id, round, name },
            inNamespace(link.netns, command),
            files,
            env,
            tool === 'ours-backup' ? (stdout) => backupMetrics(stdout, 'full').bytes : () => dataset.info.streamBytes,
          );
          const linkBytes = (await link.receivedBytes()) - before;
          const share = (record.streamBytes * 8) / record.wallSeconds / rate;
          log(
            `    ${(share * 100).toFixed(1)}% of the link; the link carried ${(((linkBytes * 8) / record.wallSeconds / rate) * 100).toFixed(1)}%`,
          );
          records.push({ ...record, rateBitsPerSecond: rate, rttMs: plan.rttMs, linkBytes });
          await bench.gateway.release(tool === 'ours-backup' ? `${prefix}/` : key, bench.envs.aws);
        }
      }
    }
    return records;
  } finally {
    await link.unshape().catch((error: unknown) => log(`  removing the shaping failed: ${errorText(error)}`));
    await relay?.close();
  }
}
