import type { ArchiveClient } from './archive/types';
import { createS3Client } from './client';
import type { ObjectReadClient } from './download/types';
import type { MultipartClient } from './upload/types';

describe('createS3Client', () => {
  it('takes region, endpoint, path style and checksum mode from config', async () => {
    const client = createS3Client({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:7480', path_style: true, checksum_mode: 'when_required', concurrency: 4 });
    expect(await client.config.region()).toBe('eu-west-1');
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    // Retries are withRetry's alone; the SDK makes one attempt per send.
    expect(await client.config.maxAttempts()).toBe(1);
    const endpoint = await client.config.endpoint?.();
    expect(endpoint?.hostname).toBe('127.0.0.1');
    expect(endpoint?.port).toBe(7480);
    client.destroy();
  });

  it('defaults to AWS endpoints, virtual-host style and the SDK checksums', async () => {
    const client = createS3Client({ region: 'us-east-1', endpoint: undefined, path_style: false, checksum_mode: 'when_supported', concurrency: 4 });
    expect(client.config.forcePathStyle).toBe(false);
    expect(client.config.endpoint).toBeUndefined();
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
    client.destroy();
  });

  it('gives a client the uploader, the download and the thaw all accept', () => {
    const client = createS3Client({ region: 'us-east-1', endpoint: undefined, path_style: false, checksum_mode: 'when_supported', concurrency: 4 });
    // Checked by the compiler: each narrow interface is a view of the same S3Client.
    const views: [MultipartClient, ObjectReadClient, ArchiveClient] = [client, client, client];
    expect(views.every((view) => view === client)).toBe(true);
    client.destroy();
  });
});
