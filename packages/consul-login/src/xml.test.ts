import { describe, expect, it } from 'vitest';
import { parseXml } from './xml.js';

describe('parseXml', () => {
  it('keeps values as strings and drops namespaces; malformed XML is INVALID_RESPONSE', async () => {
    const doc = await parseXml(`<?xml version="1.0"?>
<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::012345678901:assumed-role/app/task</Arn>
    <UserId>AROAEXAMPLE:task</UserId>
    <Account>012345678901</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`);
    expect(doc).toEqual({
      GetCallerIdentityResponse: {
        GetCallerIdentityResult: {
          Arn: 'arn:aws:sts::012345678901:assumed-role/app/task',
          UserId: 'AROAEXAMPLE:task',
          Account: '012345678901',
        },
        ResponseMetadata: { RequestId: '1' },
      },
    });
    for (const bad of ['', '<a><b></a>', 'not xml at all', '<a>']) {
      await expect(parseXml(bad)).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
    }
  });
});
