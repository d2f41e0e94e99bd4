import { text } from 'node:stream/consumers';
import { type S3ObjectStore, S3StoreError } from '../object-store';
import { isS3Error } from '../s3-errors';

/**
 * A small object's content as text (manifests, pointers), or undefined when it does not
 * exist: one GET, where HeadObject first would be two requests and a race.
 */
export async function readTextIfExists(store: Pick<S3ObjectStore, 'getObject'>, key: string): Promise<string | undefined> {
  try {
    return await text(await store.getObject(key));
  } catch (error) {
    if (error instanceof S3StoreError && isS3Error(error.cause, 'NoSuchKey')) return undefined;
    throw error;
  }
}
