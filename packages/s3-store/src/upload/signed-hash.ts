import type { UploadPartCommand, UploadPartCommandInput, UploadPartCommandOutput } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware } from '@smithy/types';

/**
 * Signs the part with the SHA-256 computed when its bytes were read from `btrfs send`
 * (SigV4's `x-amz-content-sha256`), set on the command itself so it holds whichever
 * client sends it. The store recomputes the hash of the body it receives and refuses a
 * mismatch (AWS S3 and Ceph RGW: 400 XAmzContentSHA256Mismatch), so every byte it keeps
 * is checked against the hash the manifest records, whether the part was damaged in
 * memory, on the spool disk or on the way. It also spares the SDK hashing the body a
 * second time for the signature, and means a part never goes out as UNSIGNED-PAYLOAD.
 * `ChecksumSHA256` on the command carries the same hash for stores with flexible
 * checksums (AWS checks and echoes it; RGW 16 ignores it).
 */
export function signedWithHash(command: UploadPartCommand, sha256Hex: string): UploadPartCommand {
  const signWithHash: FinalizeRequestMiddleware<UploadPartCommandInput, UploadPartCommandOutput> = (next) => async (args) => {
    const request = args.request as { headers?: Record<string, string> };
    if (request.headers !== undefined) request.headers['x-amz-content-sha256'] = sha256Hex;
    return next(args);
  };
  command.middlewareStack.addRelativeTo(signWithHash, {
    name: 'btrfsToS3SignedPartHash',
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    override: true,
  });
  return command;
}
