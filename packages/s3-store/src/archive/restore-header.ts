/**
 * What an object's `x-amz-restore` header (HeadObject's `Restore`) says about a thaw:
 * - `absent`: no header, so no restore was requested or the restored copy expired;
 * - `ongoing`: `ongoing-request="true"`, S3 is still restoring it;
 * - `restored`: `ongoing-request="false"`, a readable copy exists until `expiresAt`
 *   (Intelligent-Tiering restores have no expiry);
 * - `malformed`: anything else, with the reason, so a caller can name it instead of guessing.
 */
export type RestoreHeaderState =
  | { readonly state: 'absent' }
  | { readonly state: 'ongoing' }
  | { readonly state: 'restored'; readonly expiresAt: Date | undefined }
  | { readonly state: 'malformed'; readonly value: string; readonly reason: string };

// One `name="value"` pair; values are quoted because expiry dates contain commas.
const PAIR = /\s*([A-Za-z-]+)\s*=\s*"([^"]*)"\s*/.source;

/** Parses `x-amz-restore`, e.g. `ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`. */
export function parseRestoreHeader(value: string | undefined): RestoreHeaderState {
  if (value === undefined) return { state: 'absent' };
  const malformed = (reason: string): RestoreHeaderState => ({ state: 'malformed', value, reason });
  const text = value.trim();
  if (text === '') return malformed('the header is empty');
  const fields = new Map<string, string>();
  const pair = new RegExp(PAIR, 'y');
  while (pair.lastIndex < text.length) {
    const position = pair.lastIndex;
    const [, name, field] = pair.exec(text) ?? [];
    if (name === undefined || field === undefined) return malformed(`expected name="value" at character ${position + 1}`);
    const key = name.toLowerCase();
    if (fields.has(key)) return malformed(`${key} appears twice`);
    fields.set(key, field);
    if (pair.lastIndex === text.length) break;
    if (text[pair.lastIndex] !== ',') return malformed(`expected a comma at character ${pair.lastIndex + 1}`);
    pair.lastIndex += 1;
  }
  const ongoing = fields.get('ongoing-request');
  if (ongoing === 'true') return { state: 'ongoing' };
  if (ongoing !== 'false')
    return malformed(ongoing === undefined ? 'ongoing-request is missing' : `ongoing-request is "${ongoing}", not "true" or "false"`);
  const expiry = fields.get('expiry-date');
  if (expiry === undefined) return { state: 'restored', expiresAt: undefined };
  const expiresAt = new Date(expiry);
  if (Number.isNaN(expiresAt.getTime())) return malformed(`expiry-date "${expiry}" is not a date`);
  return { state: 'restored', expiresAt };
}
