import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AgeError,
  decodeStages,
  DecodeMismatchError,
  type EncodedChunk,
  type EncodedItem,
  encodeChunks,
  generateKey,
  identitiesFromText,
  identityFileText,
  openText,
  sealText,
  writeIdentityFile,
} from './index';

interface Encoded {
  readonly objects: Buffer[];
  readonly chunks: EncodedChunk[];
  readonly streamSha256: string;
  readonly plainSize: number;
}

async function encode(
  stream: Buffer,
  chunkSize: number,
  encoding: Parameters<typeof encodeChunks>[2],
  pieceSize = 50_000,
): Promise<Encoded> {
  const pieces = function* () {
    for (let offset = 0; offset < stream.length; offset += pieceSize) yield stream.subarray(offset, offset + pieceSize);
  };
  const objects: Buffer[] = [];
  const chunks: EncodedChunk[] = [];
  let current: Buffer[] = [];
  let end: { plainSha256: string; plainSize: number } | undefined;
  for await (const item of encodeChunks(Readable.from(pieces()), chunkSize, encoding) as AsyncGenerator<EncodedItem>) {
    if (Buffer.isBuffer(item)) current.push(item);
    else if (item.kind === 'chunk-end') {
      const object = Buffer.concat(current);
      current = [];
      objects.push(object);
      chunks.push({ key: `chunk-${chunks.length}`, size: object.length, plainSize: item.plainSize, plainSha256: item.plainSha256 });
    } else end = item;
  }
  if (end === undefined || current.length > 0) throw new Error('no stream-end, or bytes after the last chunk-end');
  return { objects, chunks, streamSha256: end.plainSha256, plainSize: end.plainSize };
}

async function decode(encoded: Encoded, decoding: Parameters<typeof decodeStages>[2]): Promise<Buffer> {
  const out: Buffer[] = [];
  const collect = async (source: AsyncIterable<Buffer>) => {
    for await (const piece of source) out.push(piece);
  };
  // pipeline's typings take no spread of mixed stages.
  await (pipeline as unknown as (...args: unknown[]) => Promise<void>)(
    Readable.from(encoded.objects),
    ...decodeStages(encoded.chunks, encoded.streamSha256, decoding),
    collect,
  );
  return Buffer.concat(out);
}

function first<T>(items: readonly T[]): T {
  const item = items[0];
  if (item === undefined) throw new Error('expected at least one item');
  return item;
}
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
/** Compressible but not trivially: text with random words. */
function textLike(size: number): Buffer {
  const words = ['btrfs', 'snapshot', 'send', 'receive', 'subvolume', 'chunk', 'part', 'manifest'];
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const word = `${words[randomBytes(1).readUInt8(0) % words.length]} ${randomBytes(2).readUInt16BE(0)}\n`;
    parts.push(word);
    length += word.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

let dir: string;
let keyFile: string;
let key: Awaited<ReturnType<typeof generateKey>>;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'codec-test-'));
  key = await generateKey();
  keyFile = join(dir, 'key.txt');
  await writeIdentityFile(keyFile, identityFileText(key, new Date()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('encodeChunks and decodeStages', () => {
  // 64 KiB STREAM blocks: sizes on, just under and just over a block boundary; 4 MiB zstd frames.
  const sizes = [1, 65_535, 65_536, 65_537, 3 * 65_536, 9 * 1024 * 1024 + 17];
  it.each(sizes)('round-trips %i bytes, compressed and encrypted, across several chunk objects', async (size) => {
    const stream = randomBytes(size);
    const identities = await identitiesFromText(identityFileText(key, new Date()), 'key');
    const chunkSize = Math.max(1, Math.ceil(size / 3));
    const encoded = await encode(stream, chunkSize, { compressionLevel: 3, recipients: [key.recipient] });
    expect(encoded.chunks.map((chunk) => chunk.plainSize).reduce((a, b) => a + b, 0)).toBe(size);
    expect(encoded.streamSha256).toBe(sha256(stream));
    expect((await decode(encoded, { compressed: true, identities })).equals(stream)).toBe(true);
  });

  it('round-trips with only compression, and with only encryption', async () => {
    const stream = textLike(300_000);
    const identities = await identitiesFromText(identityFileText(key, new Date()), 'key');
    const compressed = await encode(stream, 100_000, { compressionLevel: 3 });
    expect(compressed.objects.reduce((sum, object) => sum + object.length, 0)).toBeLessThan(stream.length / 2);
    expect((await decode(compressed, { compressed: true })).equals(stream)).toBe(true);
    const encrypted = await encode(stream, 100_000, { recipients: [key.recipient] });
    expect((await decode(encrypted, { compressed: false, identities })).equals(stream)).toBe(true);
  });

  it('yields only a stream-end for an empty stream', async () => {
    const encoded = await encode(Buffer.alloc(0), 10, { compressionLevel: 3, recipients: [key.recipient] });
    expect(encoded.objects).toHaveLength(0);
    expect(encoded.streamSha256).toBe(sha256(Buffer.alloc(0)));
  });

  it('encrypts to several recipients, each of whom can decode', async () => {
    const other = await generateKey();
    const stream = randomBytes(200_000);
    const encoded = await encode(stream, 1_000_000, { compressionLevel: 1, recipients: [key.recipient, other.recipient] });
    for (const holder of [key, other]) {
      const identities = await identitiesFromText(holder.identity, 'key');
      expect((await decode(encoded, { compressed: true, identities })).equals(stream)).toBe(true);
    }
  });

  it('refuses a chunk whose age file another key opens, naming the chunk', async () => {
    const encoded = await encode(randomBytes(1000), 10_000, { recipients: [key.recipient] });
    const stranger = await identitiesFromText((await generateKey()).identity, 'stranger.txt');
    await expect(decode(encoded, { compressed: false, identities: stranger })).rejects.toThrow(/chunk-0: no identity matched/);
  });

  it('refuses a flipped payload byte before passing on any of its 64 KiB block', async () => {
    const stream = randomBytes(200_000);
    const encoded = await encode(stream, 1_000_000, { recipients: [key.recipient] });
    const object = first(encoded.objects);
    object.writeUInt8(object.readUInt8(object.length - 100) ^ 1, object.length - 100);
    const identities = await identitiesFromText(key.identity, 'key');
    await expect(decode(encoded, { compressed: false, identities })).rejects.toThrow(AgeError);
  });

  it('refuses decoded bytes that differ from the recorded plaintext hash', async () => {
    const encoded = await encode(textLike(10_000), 1_000_000, { compressionLevel: 3 });
    const wrong = { ...encoded, chunks: [{ ...first(encoded.chunks), plainSha256: sha256(Buffer.from('other')) }] };
    await expect(decode(wrong, { compressed: true })).rejects.toThrow(DecodeMismatchError);
  });

  it('stores incompressible data at about its size', async () => {
    const stream = randomBytes(5 * 1024 * 1024);
    const encoded = await encode(stream, 64 * 1024 * 1024, { compressionLevel: 3, recipients: [key.recipient] });
    expect(first(encoded.objects).length).toBeLessThan(stream.length * 1.001 + 1024);
  });
});

describe('the stock tools', () => {
  const tool = (command: string, args: string[], input?: Buffer) => {
    const result = spawnSync(command, args, { input, maxBuffer: 64 * 1024 * 1024 });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr.toString()}`);
    return result.stdout;
  };

  it('decode every chunk object with age -d | zstd -d, in key order, into the stream', async () => {
    const stream = Buffer.concat([textLike(1_500_000), randomBytes(700_000)]);
    const encoded = await encode(stream, 600_000, { compressionLevel: 3, recipients: [key.recipient] });
    expect(encoded.objects.length).toBe(4);
    const decoded = encoded.objects.map((object) => tool('zstd', ['-d', '-c'], tool('age', ['-d', '-i', keyFile], object)));
    expect(Buffer.concat(decoded).equals(stream)).toBe(true);
  });

  it('encode what we decode: age -e -r | zstd output round-trips through decodeStages', async () => {
    const stream = randomBytes(3 * 65_536);
    const object = tool('age', ['-e', '-r', key.recipient], tool('zstd', ['-c', '-q'], stream));
    const chunks = [{ key: 'from-cli', size: object.length, plainSize: stream.length, plainSha256: sha256(stream) }];
    const identities = await identitiesFromText(readFileSync(keyFile, 'utf8'), keyFile);
    expect(
      (
        await decode(
          { objects: [object], chunks, streamSha256: sha256(stream), plainSize: stream.length },
          { compressed: true, identities },
        )
      ).equals(stream),
    ).toBe(true);
  });

  it('age reads a sealed text as it is', async () => {
    const sealed = await sealText('{"snapshot_path":"/srv/.snapshots/x"}', [key.recipient]);
    expect(tool('age', ['-d', '-i', keyFile], Buffer.from(sealed)).toString()).toBe('{"snapshot_path":"/srv/.snapshots/x"}');
    expect(await openText(sealed, await identitiesFromText(key.identity, 'key'))).toBe('{"snapshot_path":"/srv/.snapshots/x"}');
  });
});

describe('identity files', () => {
  it('are written 0600, never over an existing file, and read by age -d -i', async () => {
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    await expect(writeIdentityFile(keyFile, 'other')).rejects.toThrow(/EEXIST/);
    expect(readFileSync(keyFile, 'utf8')).toContain(`# public key: ${key.recipient}`);
  });

  it('refuse a file with a line that is not an identity, naming the file', async () => {
    const path = join(dir, 'bad.txt');
    writeFileSync(path, 'age1notakey\n');
    await expect(identitiesFromText('age1notakey\n', path)).rejects.toThrow(`${path} holds a line that is not an age identity`);
  });
});
