// @ts-check
// What the bucket holds per subvolume, and whether every chunk of each current chain
// is there and hashes to what its manifest records. Reads only; no CLI involved.
// Usage: node list-and-verify.js CONFIG
// S3 credentials come from the environment (AWS_ACCESS_KEY_ID, ...) as for the SDK.
const { BtrfsToS3Error, loadConfig } = require('@org/btrfs-s3-core');
const { DamagedBackupError, runList, runVerify } = require('@org/btrfs-s3-bucket');

async function main() {
  const [configPath] = process.argv.slice(2);
  if (configPath === undefined) {
    console.error('usage: list-and-verify.js CONFIG');
    process.exitCode = 2;
    return;
  }
  const config = await loadConfig(configPath, process.env);
  const listing = await runList({ config });
  // reads 'all' re-downloads and re-hashes every chunk; throws DamagedBackupError on any problem.
  const report = await runVerify({ config, reads: { reads: 'all' } });
  const verified = new Map(report.subvolumes.map((entry) => [entry.subvolume, entry]));
  for (const subvolume of listing.subvolumes) {
    const backups = subvolume.generations.reduce((sum, generation) => sum + generation.backups.length, 0);
    const check = verified.get(subvolume.subvolume);
    const intact =
      check === undefined ? 'not configured, not verified' : `intact: ${check.chunks.read} of ${check.chunks.total} chunks re-hashed`;
    console.log(`${subvolume.subvolume}: current ${subvolume.current?.manifestKey ?? 'none'}, ${backups} backup(s); ${intact}`);
  }
}

main().catch((error) => {
  // The report says what is wrong, one line per missing or damaged object.
  if (error instanceof DamagedBackupError) {
    for (const entry of error.report.subvolumes)
      for (const problem of entry.problems) console.error(`${entry.subvolume}: ${problem.message}`);
  }
  console.error(error instanceof Error ? error.message : error);
  // Typed errors carry the documented exit code (docs/exit-codes.md); anything else is a bug.
  process.exitCode = error instanceof BtrfsToS3Error ? error.exitCode : 1;
});
