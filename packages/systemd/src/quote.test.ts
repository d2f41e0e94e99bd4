import { quoteArgument, quoteEnvironment, quoteExecutable, quotePath, UnitValueError } from './quote';

describe('unit file quoting', () => {
  it('leaves plain paths as they are', () => {
    expect(quoteExecutable('/usr/bin/btrfs-to-s3')).toBe('/usr/bin/btrfs-to-s3');
    expect(quotePath('/srv/.snapshots')).toBe('/srv/.snapshots');
  });

  it('quotes whitespace and single quotes, and doubles % everywhere (systemd expands specifiers)', () => {
    expect(quoteExecutable("/opt/my tools/100%/it's")).toBe('"/opt/my tools/100%%/it\'s"');
    expect(quotePath('/srv/my data', { ignoreMissing: true })).toBe('"-/srv/my data"');
    expect(quoteEnvironment('PATH', '/opt/node 20/bin:/usr/bin')).toBe('"PATH=/opt/node 20/bin:/usr/bin"');
  });

  it('doubles $ in arguments only: systemd expands variables there, not in the executable path', () => {
    expect(quoteArgument('/etc/$HOME.toml')).toBe('/etc/$$HOME.toml');
    expect(quoteExecutable('/opt/$HOME/run.js')).toBe('/opt/$HOME/run.js');
    expect(quotePath('/srv/$x')).toBe('/srv/$x');
  });

  it('refuses what it cannot write unambiguously', () => {
    expect(() => quotePath('')).toThrow(UnitValueError);
    expect(() => quotePath('/srv/a"b')).toThrow(/cannot write "\/srv\/a\\"b" into a systemd unit/);
    expect(() => quoteArgument('/srv/a\\b')).toThrow(UnitValueError);
    expect(() => quoteExecutable('/srv/a\nb')).toThrow(UnitValueError);
  });
});
