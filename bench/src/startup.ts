// The fixed cost of a run: the time from exec of btrfs-to-s3 until its first S3 request
// reaches the gateway, which every run pays before it does any work (Node, oclif, the
// config, the AWS SDK), set against a bare `node -e 0` of the same Node. The command is
// `list` on an empty prefix, which has nothing else to do (docs/release.md, "Start-up").
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { execFile } from './exec';
import type { StartupResult, StartupRun } from './results';
import { type Gateway, ourConfigToml, ourEnv } from './tools';

export interface Executable {
  /** The release's launcher, the checkout's bin/run.js, or one named with --executable. */
  readonly kind: StartupResult['kind'];
  readonly path: string;
  /** The Node it runs on, timed bare for comparison. */
  readonly node: string;
}

/**
 * What to time: `given` (--executable), else the release's launcher when
 * scripts/release.sh has built one, else the checkout's apps/cli/bin/run.js.
 */
export async function ourExecutable(root: string, given?: string): Promise<Executable> {
  if (given !== undefined) {
    // A release's launcher runs its own Node (bin/../node/bin/node); anything else, the Node on PATH.
    const ownNode = join(dirname(dirname(realpathSync(given))), 'node', 'bin', 'node');
    return { kind: 'given', path: given, node: existsSync(ownNode) ? ownNode : process.execPath };
  }
  const launcher = releaseLauncher(root);
  if (launcher !== undefined) return { kind: 'release', path: launcher, node: join(dirname(dirname(launcher)), 'node', 'bin', 'node') };
  // Its shebang runs the Node on PATH, as this process was started.
  return { kind: 'checkout', path: join(root, 'apps/cli/bin/run.js'), node: process.execPath };
}

/** The launcher of the release scripts/release.sh built from this checkout's version, if it is there. */
export function releaseLauncher(root: string): string | undefined {
  const { version } = JSON.parse(readFileSync(join(root, 'apps/cli/package.json'), 'utf8')) as { version: string };
  const launcher = join(root, 'release', 'stage', `btrfs-to-s3-${version}-linux-x64`, 'bin', 'btrfs-to-s3');
  return existsSync(launcher) ? launcher : undefined;
}

/** A TCP relay in front of the gateway that notes when the first bytes of a request arrive. */
export class FirstRequestRelay {
  private first: bigint | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private port = 0;

  /** `upstream`: the gateway, http://host:port. */
  constructor(upstream: string) {
    const target = new URL(upstream);
    this.server = createServer((client) => {
      const gateway = connect(Number(target.port || 80), target.hostname);
      for (const socket of [client, gateway]) {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
      }
      client.once('data', () => {
        this.first ??= process.hrtime.bigint();
      });
      client.on('error', () => gateway.destroy());
      gateway.on('error', () => client.destroy());
      client.pipe(gateway);
      gateway.pipe(client);
    });
  }

  /** Listens on a free loopback port. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('relay: no TCP address');
    this.port = address.port;
  }

  /** Where clients send their requests instead of the gateway. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Forgets the last run's first request. */
  reset(): void {
    this.first = undefined;
  }

  /** process.hrtime.bigint() when the first request since reset() arrived. */
  get firstRequestAt(): bigint | undefined {
    return this.first;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface StartupOptions {
  readonly executable: Executable;
  /** Our command's arguments: a run whose first request goes through the relay. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | null>>;
  readonly relay: FirstRequestRelay;
  readonly runs: number;
  readonly signal?: AbortSignal;
}

/**
 * `runs` pairs of a bare `node -e 0` and our command, interleaved, after one untimed run
 * of each: the first run of a new build writes its code cache, and fills the page cache.
 */
export async function timeStartup(options: StartupOptions): Promise<StartupRun[]> {
  const { executable, args, env, relay, signal } = options;
  const ours = async () => {
    relay.reset();
    const result = await execFile(executable.path, args, { env, ...(signal === undefined ? {} : { signal }) });
    const first = relay.firstRequestAt;
    if (first === undefined) throw new Error(`${executable.path} ${args.join(' ')} sent no request through the relay`);
    return { firstRequestSeconds: Number(first - result.spawnedAt) / 1e9, wallSeconds: result.wallSeconds };
  };
  const bare = async () => (await execFile(executable.node, ['-e', '0'], signal === undefined ? {} : { signal })).wallSeconds;
  await bare();
  await ours();
  const runs: StartupRun[] = [];
  for (let run = 0; run < options.runs; run++) {
    const bareNodeSeconds = await bare();
    runs.push({ ...(await ours()), bareNodeSeconds });
  }
  return runs;
}

export interface StartupCase {
  readonly work: string;
  /** The checkout, to show the executable's path relative to it. */
  readonly root: string;
  readonly gateway: Gateway;
  readonly executable: Executable;
  /** Only fills the config: list reads the bucket alone. */
  readonly subvolume: string;
  readonly runs: number;
  readonly signal: AbortSignal;
  readonly log: (message: string) => void;
}

/** `list --json` on an empty prefix, with the gateway behind a relay that notes its first request. */
export async function startupCase(options: StartupCase): Promise<StartupResult> {
  const { work, gateway, executable, log } = options;
  const relay = new FirstRequestRelay(gateway.endpoint);
  await relay.listen();
  try {
    const file = join(work, 'config-startup.toml');
    const config = {
      workDir: work,
      name: 'startup',
      subvolume: options.subvolume,
      snapshotsDir: join(work, 'snapshots-startup'),
      prefix: 'bench-startup',
    };
    await writeFile(file, ourConfigToml(config, { ...gateway, endpoint: relay.endpoint }));
    const command = ['list', '--json'];
    log(`fixed cost of a run: ${executable.path} ${command.join(' ')}, ${options.runs} runs, each after a bare node -e 0`);
    const runs = await timeStartup({
      executable,
      args: [...command, '--config', file],
      env: ourEnv(gateway),
      relay,
      runs: options.runs,
      signal: options.signal,
    });
    const shown = relative(options.root, executable.path);
    const result: StartupResult = {
      kind: executable.kind,
      executable: shown.startsWith('..') ? executable.path : shown,
      command: command.join(' '),
      runs,
    };
    return result;
  } finally {
    await relay.close();
  }
}
