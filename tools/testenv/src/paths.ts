import { join } from 'node:path';

/** The shell scripts that own the test environment (also used by the demo script). */
export const LOOP_BTRFS_SCRIPT = join(__dirname, '..', 'bin', 'loop-btrfs.sh');
export const RGW_SCRIPT = join(__dirname, '..', 'bin', 'rgw.sh');
