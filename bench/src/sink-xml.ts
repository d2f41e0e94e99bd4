// The few XML documents the S3 sink reads and writes: no parser library, since the only
// document it reads is CompleteMultipartUpload's list of parts.

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[char]};`);
}

export function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);|&#(\d+);|&#x([0-9a-f]+);/gi, (entity, _name, decimal?: string, hex?: string) => {
    if (decimal !== undefined) return String.fromCodePoint(Number(decimal));
    if (hex !== undefined) return String.fromCodePoint(parseInt(hex, 16));
    return ENTITIES[entity.toLowerCase()] ?? entity;
  });
}

/** `<Name>value</Name>` for each pair, the value escaped; undefined values are left out. */
export function elements(fields: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(fields)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([name, value]) => `<${name}>${escapeXml(String(value))}</${name}>`)
    .join('');
}

export function document(root: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</${root}>`;
}

export function errorDocument(code: string, message: string, resource: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${elements({ Code: code, Message: message, Resource: resource })}</Error>`;
}

export interface CompletedPartEntry {
  readonly partNumber: number;
  readonly etag: string;
  readonly checksumSha256?: string;
}

/** The parts listed in a CompleteMultipartUpload body, in document order; undefined when it is not one. */
export function parseCompleteBody(xml: string): CompletedPartEntry[] | undefined {
  if (!/<CompleteMultipartUpload[\s>]/.test(xml)) return undefined;
  const parts: CompletedPartEntry[] = [];
  for (const match of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const body = match[1] ?? '';
    const field = (name: string) => {
      const value = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(body)?.[1];
      return value === undefined ? undefined : unescapeXml(value.trim());
    };
    const partNumber = Number(field('PartNumber'));
    const etag = field('ETag');
    if (!Number.isInteger(partNumber) || etag === undefined) return undefined;
    const checksumSha256 = field('ChecksumSHA256');
    parts.push({ partNumber, etag, ...(checksumSha256 === undefined ? {} : { checksumSha256 }) });
  }
  return parts;
}
