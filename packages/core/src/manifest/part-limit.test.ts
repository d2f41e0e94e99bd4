import { parseConfig } from '../config/load';
import { ExitCode } from '../exit-codes';
import { manifestKey } from './keys';
import { assertPartsWithin, PartLimitError, partMemoryLimit } from './part-limit';
import { backup, H, manifest } from '../__fixtures__/manifest';

const MiB = 1024 * 1024;
const config = (s3: string, restore = '') =>
  parseConfig(
    `[snapshots]\nbase_dir = "/s"\n[subvolumes]\npaths = ["/d"]\n[s3]\nbucket = "b-1"\nregion = "r"\nprefix = "p"\n${s3}\n[restore]\n${restore}`,
  );

describe('partMemoryLimit', () => {
  it('is restore.max_part_size_bytes (512 MiB by default), or s3.part_size_bytes when larger', () => {
    expect(partMemoryLimit(config(''))).toBe(512 * MiB);
    expect(partMemoryLimit(config('', `max_part_size_bytes = ${64 * MiB}`))).toBe(128 * MiB);
    expect(partMemoryLimit(config(`part_size_bytes = ${1024 * MiB}`))).toBe(1024 * MiB);
  });

  it('refuses a limit outside S3 part sizes, naming the key', () => {
    expect(() => config('', 'max_part_size_bytes = 1024')).toThrow(/restore\.max_part_size_bytes: must be at least 5 MiB/);
  });
});

describe('assertPartsWithin', () => {
  const key = manifestKey(backup);
  const [first] = manifest.chunks;
  if (first === undefined) throw new Error('fixture');
  const withPart = (size: number) => ({ chunks: [{ ...first, size, parts: [{ number: 1, size, sha256: H('p') }] }] });

  it('passes parts up to the limit', () => {
    expect(() => assertPartsWithin(key, withPart(512 * MiB), 512 * MiB)).not.toThrow();
  });

  it('refuses a larger part with exit 2, naming the manifest, the part, its chunk and the key to raise', () => {
    const refuse = () => assertPartsWithin(key, withPart(1024 * MiB), 512 * MiB);
    expect(refuse).toThrow(PartLimitError);
    expect(refuse).toThrow(
      `manifest ${key}: part 1 of ${first.key} is 1024 MiB, larger than the 512 MiB a download here may hold (restore.max_part_size_bytes`,
    );
    expect(refuse).toThrow(`raise restore.max_part_size_bytes (or BTRFS_TO_S3__RESTORE__MAX_PART_SIZE_BYTES) to at least ${1024 * MiB}`);
    let caught: unknown;
    try {
      refuse();
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ exitCode: ExitCode.Usage });
  });
});
