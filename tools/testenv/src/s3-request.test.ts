import { classify, errorXml, objectPath, parseRestoreRequest } from './s3-request';

describe('classify', () => {
  it.each([
    ['GET', '/b/dir/a%20b%2Bc.bin?x-id=GetObject', { kind: 'GetObject', bucket: 'b', key: 'dir/a b+c.bin' }],
    ['HEAD', '/b/k?partNumber=1', { kind: 'HeadObject', bucket: 'b', key: 'k' }],
    ['POST', '/b/k?restore&x-id=RestoreObject', { kind: 'RestoreObject', bucket: 'b', key: 'k' }],
    ['POST', '/b/k?uploads', { kind: 'CreateMultipartUpload', bucket: 'b', key: 'k' }],
    ['POST', '/b/k?uploadId=u1', { kind: 'CompleteMultipartUpload', bucket: 'b', key: 'k', uploadId: 'u1' }],
    ['DELETE', '/b/k?uploadId=u1', { kind: 'AbortMultipartUpload', bucket: 'b', key: 'k', uploadId: 'u1' }],
    ['PUT', '/b/k?partNumber=1&uploadId=u1', { kind: 'Other' }],
    ['GET', '/b/k?uploadId=u1', { kind: 'Other' }],
    ['GET', '/b/k?tagging', { kind: 'Other' }],
    ['GET', '/b?list-type=2', { kind: 'Other' }],
    ['GET', '/b/', { kind: 'Other' }],
    ['GET', '/b/%E0%A4%A', { kind: 'Other' }],
  ])('%s %s is %j', (method, url, expected) => {
    expect(classify(method, url)).toEqual(expected);
  });
});

describe('parseRestoreRequest', () => {
  it('reads Days and the GlacierJobParameters tier from the body the SDK sends', () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><RestoreRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Days>7</Days><GlacierJobParameters><Tier>Bulk</Tier></GlacierJobParameters></RestoreRequest>';
    expect(parseRestoreRequest(xml)).toEqual({ ok: true, tier: 'Bulk', days: 7 });
  });

  it('defaults the tier to Standard and refuses a missing Days or an unknown tier', () => {
    expect(parseRestoreRequest('<RestoreRequest><Days>1</Days></RestoreRequest>')).toEqual({ ok: true, tier: 'Standard', days: 1 });
    expect(parseRestoreRequest('<RestoreRequest></RestoreRequest>')).toMatchObject({ ok: false, error: { code: 'MalformedXML' } });
    expect(
      parseRestoreRequest('<RestoreRequest><Days>1</Days><GlacierJobParameters><Tier>Fast</Tier></GlacierJobParameters></RestoreRequest>'),
    ).toMatchObject({
      ok: false,
      error: { code: 'MalformedXML' },
    });
  });
});

describe('objectPath and errorXml', () => {
  it('S3 URI-encodes every key segment, including the characters encodeURIComponent leaves alone', () => {
    expect(objectPath('b', "dir/a b+c(1)!*'.bin")).toBe('/b/dir/a%20b%2Bc%281%29%21%2A%27.bin');
  });

  it('escapes the key in an error document', () => {
    expect(errorXml({ code: 'NoSuchKey', message: 'gone', key: 'a<b>&"c"' }, 'r1')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>gone</Message><Key>a&#60;b&#62;&#38;&#34;c&#34;</Key><RequestId>r1</RequestId></Error>',
    );
  });
});
