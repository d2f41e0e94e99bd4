import { Readable } from 'node:stream';
import { s3Error } from '../__fakes__/fake-s3';
import { S3StoreError } from '../object-store';
import { readTextIfExists } from './read-text';

describe('readTextIfExists', () => {
  it('reads an object as text, and undefined when it does not exist', async () => {
    expect(await readTextIfExists({ getObject: async () => Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]) }, 'k')).toBe(
      '{"a":1}',
    );
    const missing = {
      getObject: async (key: string): Promise<Readable> => Promise.reject(new S3StoreError('GetObject', key, s3Error('NoSuchKey', 404))),
    };
    expect(await readTextIfExists(missing, 'k')).toBeUndefined();
  });

  it('rethrows any other failure', async () => {
    const denied = {
      getObject: async (key: string): Promise<Readable> => Promise.reject(new S3StoreError('GetObject', key, s3Error('AccessDenied', 403))),
    };
    await expect(readTextIfExists(denied, 'k')).rejects.toThrow('S3 GetObject s3://…/k failed: AccessDenied (HTTP 403)');
  });
});
