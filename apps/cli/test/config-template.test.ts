import { CONFIG_SECTIONS, ExitCode, parseConfig } from '@org/btrfs-s3-core';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configTemplate } from '../src/config-template';
import { cli } from './helpers';

describe('the config template (config init)', () => {
  it('validates as written, and lists every key of every section once', () => {
    const template = configTemplate();
    expect(() => parseConfig(template)).not.toThrow();
    for (const [section, schema] of Object.entries(CONFIG_SECTIONS)) {
      const body = template.slice(template.indexOf(`[${section}]\n`)).split('\n[')[0] ?? '';
      for (const key of Object.keys(schema.entries)) expect(body.match(new RegExp(`^(# )?${key} = `, 'gm'))).toHaveLength(1);
    }
  });

  it('shows each default exactly: uncommenting every commented key changes nothing', () => {
    const template = configTemplate();
    const uncommented = template.replace(/^# ([a-z_]+ = (?!\(no default\)).*)$/gm, '$1');
    expect(uncommented).not.toBe(template);
    expect(parseConfig(uncommented)).toEqual(parseConfig(template));
  });

  it('is written with mode 0600 where asked, never over a file unless --force', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-init-'));
    try {
      const path = join(dir, 'etc', 'config.toml');
      const first = cli(['config', 'init', '--output', path]);
      expect(first.code).toBe(ExitCode.Success);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readFileSync(path, 'utf8')).toBe(configTemplate());
      expect(cli(['config', 'validate', '--config', path]).code).toBe(ExitCode.Success);

      writeFileSync(path, '# mine\n', { mode: 0o644 });
      chmodSync(path, 0o644);
      const again = cli(['config', 'init', '--output', path]);
      expect(again.code).toBe(ExitCode.Usage);
      expect(again.stderr).toContain(`${path} exists; pass --force to replace it`);
      expect(readFileSync(path, 'utf8')).toBe('# mine\n');

      expect(cli(['config', 'init', '--output', path, '--force']).code).toBe(ExitCode.Success);
      expect(readFileSync(path, 'utf8')).toBe(configTemplate());
      expect(statSync(path).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
