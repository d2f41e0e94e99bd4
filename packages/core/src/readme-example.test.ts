import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeManifest } from './manifest/parse';
import { backup, manifest } from './__fixtures__/manifest';
import { manifestKey } from './manifest/keys';
import { chunkKeys, whatIsDue } from '../examples/what-is-due';

const made: string[] = [];
afterAll(() => Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true }))));

const EXAMPLE = join(__dirname, '..', 'examples', 'what-is-due.ts');

describe("the README's usage example", () => {
  it('is the README verbatim, so the two cannot drift', async () => {
    const readme = await readFile(join(__dirname, '..', 'README.md'), 'utf8');
    expect(readme).toContain((await readFile(EXAMPLE, 'utf8')).trim());
  });

  it('plans a first run as a full of every configured subvolume', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'core-example-'));
    made.push(dir);
    const config = join(dir, 'config.toml');
    await writeFile(
      config,
      `[global]\nstate_path = "${dir}/state.json"\n[snapshots]\nbase_dir = "${dir}/snapshots"\n[subvolumes]\npaths = ["/srv/data"]\n[s3]\nbucket = "backups"\nregion = "eu-central-1"\nprefix = "host"\n`,
    );
    const plan = await whatIsDue(config, new Map(), () => true);
    expect(plan).toEqual([expect.objectContaining({ subvolume: 'data', action: 'full', reason: 'first backup of this subvolume' })]);
  });

  it('reads chunk keys from a manifest and rejects one that is not', async () => {
    expect(chunkKeys(manifestKey(backup), serializeManifest(manifest))).toEqual(manifest.chunks.map((chunk) => chunk.key));
    expect(() => chunkKeys('m.json', '{}')).toThrow('m.json');
  });
});
