import { IdentityError } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import { defaultIamEndpoint, defaultStsEndpoint } from './endpoints.js';

describe('default endpoints', () => {
  it('gives the regional STS endpoint for the partition', () => {
    expect(defaultStsEndpoint('us-west-2')).toEqual({
      url: 'https://sts.us-west-2.amazonaws.com/',
      region: 'us-west-2',
    });
    expect(defaultStsEndpoint('cn-north-1').url).toBe('https://sts.cn-north-1.amazonaws.com.cn/');
    expect(defaultStsEndpoint('us-gov-east-1').url).toBe('https://sts.us-gov-east-1.amazonaws.com/');
  });

  it('gives the partition IAM endpoint and its signing region', () => {
    expect(defaultIamEndpoint('eu-west-1')).toEqual({ url: 'https://iam.amazonaws.com/', region: 'us-east-1' });
    expect(defaultIamEndpoint('cn-northwest-1')).toEqual({
      url: 'https://iam.cn-north-1.amazonaws.com.cn/',
      region: 'cn-north-1',
    });
    expect(defaultIamEndpoint('us-gov-east-1')).toEqual({
      url: 'https://iam.us-gov.amazonaws.com/',
      region: 'us-gov-west-1',
    });
  });

  it('asks for explicit endpoints in partitions it cannot guess, and rejects non-regions', () => {
    expect(() => defaultStsEndpoint('us-isob-east-1')).toThrow(/pass stsEndpoint and iamEndpoint/);
    expect(() => defaultIamEndpoint('eusc-de-east-1')).toThrow(IdentityError);
    expect(() => defaultStsEndpoint('sts.amazonaws.com')).toThrow(/region must be an AWS region/);
  });
});
