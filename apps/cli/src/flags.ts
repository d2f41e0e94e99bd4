import { Flags } from '@oclif/core';
import type { S3Flags } from '@org/btrfs-s3-core';

/** The flags that choose what a backup run covers; `plan` shows what `backup` would do with them. */
export const selectionFlags = {
  once: Flags.boolean({ summary: 'Ignore the schedule: back up every selected subvolume now.' }),
  full: Flags.boolean({ summary: 'Force full backups instead of incrementals.' }),
  subvolume: Flags.string({
    char: 's',
    summary: 'Only this subvolume (the last component of its configured path); repeatable.',
    multiple: true,
  }),
};

/**
 * Where the backups are, for the commands that need nothing else (`restore`, `list`,
 * `verify`): each overrides its `[s3]` key, so a new host needs no config file.
 */
export const locationFlags = {
  bucket: Flags.string({ summary: 'The S3 bucket (s3.bucket).', helpGroup: 'S3 LOCATION' }),
  prefix: Flags.string({ summary: 'The key prefix the backups are under (s3.prefix).', helpGroup: 'S3 LOCATION' }),
  region: Flags.string({ summary: "The bucket's region (s3.region).", helpGroup: 'S3 LOCATION' }),
  endpoint: Flags.string({ summary: 'An S3-compatible endpoint URL (s3.endpoint).', helpGroup: 'S3 LOCATION' }),
  'path-style': Flags.boolean({
    summary: 'Path-style addressing, as most S3-compatible stores need (s3.path_style).',
    helpGroup: 'S3 LOCATION',
  }),
};

/** The location flags as config keys; absent ones are left to the file and the environment. */
export function locationOf(flags: {
  bucket?: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  'path-style'?: boolean;
}): S3Flags {
  return { bucket: flags.bucket, prefix: flags.prefix, region: flags.region, endpoint: flags.endpoint, path_style: flags['path-style'] };
}
