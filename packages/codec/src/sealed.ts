import { armor, Encrypter } from 'age-encryption';
import { AgeError } from './age/errors';
import type { Identities } from './age/keys';

/**
 * A small text (a manifest's private section) as an ASCII-armored age file, so it
 * fits in JSON and `age -d -i KEY` reads it as it is. Small, so the library does
 * all of it.
 */
export async function sealText(text: string, recipients: readonly string[]): Promise<string> {
  if (recipients.length === 0) throw new AgeError('no age recipients to encrypt to');
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  return armor.encode(await encrypter.encrypt(text));
}

/** The text sealText sealed; AgeError when no identity matches or the file is damaged. */
export async function openText(sealed: string, identities: Identities): Promise<string> {
  try {
    return await identities.decrypter.decrypt(armor.decode(sealed), 'text');
  } catch (error) {
    throw new AgeError(error instanceof Error ? error.message : String(error));
  }
}
