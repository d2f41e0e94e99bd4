import { Flags } from '@oclif/core';

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
