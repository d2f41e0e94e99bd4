import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DRILL_DROPPED_DIRECTIVES, DRILL_SANDBOX_DIRECTIVES, REFUSED_DIRECTIVES, SANDBOX_DIRECTIVES } from './sandbox';
import { renderDrillUnits, renderUnits } from './units';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

/** The text of the README section under `heading`, up to the next heading of any level. */
function section(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "${heading}" section`);
  const rest = readme.slice(start + heading.length + 2);
  const end = rest.search(/\n#{2,3} /);
  return end < 0 ? rest : rest.slice(0, end);
}

/** First-column entries of the Markdown tables in `text`: `| \`Directive\` | ...`. */
const tableDirectives = (text: string) => [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]);

/** The ```ini blocks of the README, in order. */
const iniBlocks = () => [...readme.matchAll(/```ini\n([\s\S]*?)```/g)].map((match) => match[1]);

describe('README.md', () => {
  it('explains every sandbox directive the service uses', () => {
    const explained = tableDirectives(section('## The sandbox'));
    for (const [directive] of SANDBOX_DIRECTIVES) expect(explained).toContain(directive);
    expect(explained).toEqual(expect.arrayContaining(['ReadWritePaths', 'NoExecPaths']));
  });

  it('says why for every directive the service does without', () => {
    expect(tableDirectives(section('### Not used')).sort()).toEqual([...REFUSED_DIRECTIVES].sort());
  });

  it('explains every directive in which the drill service differs from the backup service', () => {
    const explained = tableDirectives(section("### The drill service's sandbox"));
    const same = (entry: readonly [string, string]) => SANDBOX_DIRECTIVES.some(([d, v]) => d === entry[0] && v === entry[1]);
    const differing = DRILL_SANDBOX_DIRECTIVES.filter((entry) => !same(entry)).map(([directive]) => directive);
    expect(differing.length).toBeGreaterThan(0);
    for (const directive of [...differing, ...DRILL_DROPPED_DIRECTIVES, 'ReadWritePaths']) expect(explained).toContain(directive);
  });

  it("shows the units renderUnits and renderDrillUnits produce for the root README's example config", () => {
    const options = {
      execPath: '/usr/local/lib/node_modules/btrfs-to-s3/bin/run.js',
      nodeDir: '/usr/bin',
      config: {
        // The defaults of a root install: `~` is /root.
        global: {
          state_path: '/var/lib/btrfs-to-s3/state.json',
          lock_path: '/run/btrfs-to-s3/lock',
          spool_dir: '/var/tmp/btrfs_to_s3/spool',
          metrics_path: '/var/lib/btrfs-to-s3/metrics.json',
        },
        schedule: { run_at: '02:00' },
        snapshots: { base_dir: '/srv/.snapshots' },
        subvolumes: { paths: ['/srv/data', '/srv/home'] },
        drill: { scratch_dir: '/srv/.drill' },
      },
    };
    const units = renderUnits(options);
    const drill = renderDrillUnits(options);
    expect(iniBlocks()).toEqual([
      units['btrfs-to-s3.service'],
      units['btrfs-to-s3.timer'],
      drill['btrfs-to-s3-drill.service'],
      drill['btrfs-to-s3-drill.timer'],
    ]);
  });
});
