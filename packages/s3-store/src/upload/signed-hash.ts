import { PutObjectCommand, type UploadPartCommand } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware, MiddlewareStack } from '@smithy/types';

/**
 * Signs the part with the SHA-256 computed when its bytes were read from `btrfs send`
 * (SigV4's `x-amz-content-sha256`), set on the command itself so it holds whichever
 * client sends it. The store recomputes the hash of the body it receives and refuses a
 * mismatch (AWS S3 and Ceph RGW: 400 XAmzContentSHA256Mismatch), so every byte it keeps
 * is checked against the hash the manifest records, whether the part was damaged in
 * memory, on the spool disk or on the way. It also spares the SDK hashing the body a
 * second time for the signature, and means a part never goes out as UNSIGNED-PAYLOAD.
 * `ChecksumSHA256` on the command carries the same hash for stores with flexible
 * checksums (AWS checks and echoes it; RGW 16 ignores it). A chunk of one part is a
 * PutObject, signed the same way.
 */
export function signedWithHash(command: UploadPartCommand, sha256Hex: string): UploadPartCommand;
export function signedWithHash(command: PutObjectCommand, sha256Hex: string): PutObjectCommand;
export function signedWithHash(command: UploadPartCommand | PutObjectCommand, sha256Hex: string): UploadPartCommand | PutObjectCommand {
  if (command instanceof PutObjectCommand) addSignedHash(command.middlewareStack, sha256Hex);
  else addSignedHash(command.middlewareStack, sha256Hex);
  return command;
}

function addSignedHash<I extends object, O extends object>(stack: MiddlewareStack<I, O>, sha256Hex: string): void {
  const signWithHash: FinalizeRequestMiddleware<I, O> = (next) => async (args) => {
    const request = args.request as { headers?: Record<string, string> };
    if (request.headers !== undefined) request.headers['x-amz-content-sha256'] = sha256Hex;
    return next(args);
  };
  stack.addRelativeTo(signWithHash, {
    name: 'btrfsToS3SignedPartHash',
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    override: true,
  });
}
