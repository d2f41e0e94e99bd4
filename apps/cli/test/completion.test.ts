import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers';

/**
 * Shell completion comes from @oclif/plugin-autocomplete, listed in `oclif.plugins`:
 * `autocomplete bash` writes the completion function for this CLI's commands and flags (the
 * systemd plugin's included) into the cache directory, and `autocomplete script bash` prints
 * the line that loads it; bash completes from it.
 */
describe('shell completion', () => {
  const cache = mkdtempSync(join(tmpdir(), 'completion-'));
  afterAll(() => rmSync(cache, { recursive: true, force: true }));
  // As a user sets it up: `autocomplete bash` builds the cache and prints the instructions.
  beforeAll(() => expect(cli(['autocomplete', 'bash'], { XDG_CACHE_HOME: cache }).code).toBe(0));

  /** What bash offers for the words typed so far, after sourcing what `autocomplete script bash` names. */
  function complete(words: readonly string[]): string[] {
    const setup = cli(['autocomplete', 'script', 'bash'], { XDG_CACHE_HOME: cache });
    expect(setup.code).toBe(0);
    const script = [
      setup.stdout.trim(),
      `COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      `COMP_LINE='${words.join(' ')}'`,
      '_btrfs-to-s3_autocomplete',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const bash = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: cache } });
    expect(bash.stderr).toBe('');
    return bash.stdout.split('\n').filter((line) => line !== '');
  }

  it('completes commands, topics and flags in bash', () => {
    expect(complete(['btrfs-to-s3', 'do'])).toEqual(['doctor']);
    expect(complete(['btrfs-to-s3', 'sys'])).toEqual(expect.arrayContaining([expect.stringMatching(/^systemd/)]));
    expect(complete(['btrfs-to-s3', 'restore', '--wa'])).toEqual(['--wait']);
  });
});
