import { Flags } from '@oclif/core';
import { BtrfsToS3Error, ExitCode } from '@org/btrfs-s3-core';
import { BaseCommand } from '@org/btrfs-s3-command';
import { resolve } from 'node:path';

export interface KeyGenerateResult {
  readonly path: string;
  readonly recipient: string;
}

export default class KeyGenerate extends BaseCommand {
  static override summary = 'Make an age identity (private key) file and print its recipient (public key).';
  static override description =
    'Writes the identity to --output with mode 0600, as age-keygen does (`age -d -i FILE` reads it), and never over an existing file. Put the printed age1... recipient in [encryption] recipients; keep the file where restores run, and a copy off-site: backups encrypted to it cannot be read without it.';
  static override examples = ['<%= config.bin %> key generate --output /root/btrfs-to-s3.key'];
  static override enableJsonFlag = true;
  static override flags = {
    output: Flags.string({ char: 'o', summary: 'The identity file to write (must not exist).', required: true }),
  };

  async run(): Promise<KeyGenerateResult> {
    const { generateKey, identityFileText, writeIdentityFile } = await import('@org/btrfs-s3-codec');
    const { flags } = await this.parse(KeyGenerate);
    const path = resolve(flags.output);
    const key = await generateKey();
    try {
      await writeIdentityFile(path, identityFileText(key, new Date()));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new BtrfsToS3Error(
        code === 'EEXIST'
          ? `--output ${path} exists; a key is never overwritten (backups may need it): choose another path`
          : `--output ${path}: ${code ?? String(error)}`,
        { exitCode: ExitCode.Usage },
      );
    }
    if (!this.jsonEnabled()) process.stdout.write(`${key.recipient}\n`);
    process.stderr.write(`wrote the identity to ${path} (mode 0600); its recipient is on stdout\n`);
    return { path, recipient: key.recipient };
  }
}
