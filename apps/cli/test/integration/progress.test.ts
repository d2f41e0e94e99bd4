import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import {
  backupConfig,
  type Env,
  gatewayEnv,
  MiB,
  type RequestFault,
  startFaultProxy,
  testGateway,
  uniquePrefix,
  withLoopBtrfs,
  writeRandomFiles,
} from '@org/testenv';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { stripVTControlCharacters as plain } from 'node:util';
import { BIN, cliAsync } from '../helpers';

/** What the terminal is told to clear the line the cursor is on (readline.clearLine). */
const CLEAR_LINE = '\u001b[2K';

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/** The CLI as a person at a terminal runs it: under a pseudo-terminal (util-linux `script`) 200 columns wide. */
function startOnTerminal(args: readonly string[], env: Env) {
  const command = `stty cols 200 rows 50; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  // stdin stays open: script ends the session when its input does.
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  const done = once(child, 'close').then(([code]) => code as number | null);
  return {
    screen: () => screen,
    /** Resolves once the terminal shows `pattern`; fails if the run ends without it. */
    shows: (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(screen)) return;
          child.stdout.off('data', check);
          resolve();
        };
        child.stdout.on('data', check);
        void done.then(() => (pattern.test(screen) ? resolve() : reject(new Error(`the run ended without ${pattern}:\n${screen}`))));
        check();
      }),
    done: done.finally(() => child.stdin.end()),
  };
}

describe('backup progress on a terminal, on real Btrfs and the real gateway', () => {
  it('draws percent, the "~" estimate and an ETA, and prints a retry warning above the bar; --json draws nothing', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let uploadParts = 0;
    let faulty = false;
    const proxy = await startFaultProxy({
      upstream: testGateway().endpoint,
      // During the second backup: two parts go through, one connection drops (a retry, and its
      // warning while the bar is drawn), and every later part waits until the test saw the screen.
      faults: (request): RequestFault | undefined => {
        if (!faulty || request.method !== 'PUT' || !request.target.includes('partNumber=')) return undefined;
        uploadParts += 1;
        if (uploadParts === 2) return { resetAfterBodyBytes: 0 };
        return uploadParts >= 4 ? { holdResponseUntil: held } : undefined;
      },
    });
    try {
      await withLoopBtrfs(async (mnt) => {
        await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
        await writeRandomFiles(join(mnt, 'data'), 4, 8 * MiB);
        const config = backupConfig(mnt, uniquePrefix('progress'), ['data'], {
          endpoint: proxy.endpoint,
          s3: 'retry_base_seconds = 0.1',
        });
        // The first full records its stream's size: the second full's estimate.
        const first = await cliAsync(['backup', '--config', config], gatewayEnv());
        expect({ code: first.code, stderr: first.stderr }).toMatchObject({ code: 0 });

        faulty = true;
        const run = startOnTerminal(['backup', '--config', config, '--full', '--once'], gatewayEnv());
        try {
          await run.shows(
            /\] \d{1,2}% \| [\d.]+ MiB of ~[\d.]+ MiB \| ETA [\dmhs]+ \| [\d.]+ \S+\/s \| elapsed \d+s \| chunks \d+, parts 2, retries 1/,
          );
        } finally {
          release();
        }
        const code = await run.done;
        const screen = run.screen();
        expect({ code, screen }).toMatchObject({ code: 0 });

        // The warning took the bar's line (cleared first) and the bar was drawn again below it.
        const warning = screen.split('\n').find((line) => line.includes('retrying in')) ?? '';
        expect(warning).toContain(CLEAR_LINE);
        expect(plain(warning.slice(warning.lastIndexOf(CLEAR_LINE)))).toMatch(
          /^\d\d:\d\d:\d\d warn data: UploadPart of \S+ part \d failed \(attempt 1: .*\); retrying in [\d.]+ s\r?$/,
        );
        expect(screen.slice(screen.indexOf(warning) + warning.length)).toMatch(/data \[/);
        // The last frame: the whole stream, done.
        const frames = screen.split('data [');
        expect(plain(`data [${frames.at(-1) ?? ''}`)).toMatch(
          /^data \[=+\] 100% \| [\d.]+ MiB \| done \| [\d.]+ \S+\/s \| elapsed \d+s \| chunks \d+, parts \d+, retries 1/,
        );

        faulty = false;
        const json = startOnTerminal(['backup', '--config', config, '--full', '--once', '--json'], gatewayEnv());
        expect({ code: await json.done, screen: json.screen() }).toMatchObject({ code: 0 });
        expect(json.screen()).not.toMatch(/data \[|ETA/);
        expect(json.screen()).toMatch(/"result": "published"/);
      });
    } finally {
      release();
      await proxy.close();
    }
  });
});
