// The browser program: bundled by esbuild for `platform: 'browser'` from the packed packages and run in Chromium.
// It builds a Consul bearer token and an Athenz service CSR with the browser's own Web Crypto; the consumer test
// checks both in Node against the packed testkit's fake Consul and with @peculiar/x509.
import { buildServiceCsr, generateKeyPair } from '@ecs-identity/athenz-zts';
import { buildBearerToken } from '@ecs-identity/consul-login';

export interface BrowserInput {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; roleArn: string };
  region: string;
  serverIdHeaderValue: string;
  domain: string;
  service: string;
  provider: string;
  instanceId: string;
  dnsSuffix: string;
}

export async function run(input: BrowserInput): Promise<{ bearerToken: string; csrPem: string; keyType: string }> {
  const bearerToken = await buildBearerToken({
    credentials: input.credentials,
    region: input.region,
    serverIdHeaderValue: input.serverIdHeaderValue,
  });
  const keys = await generateKeyPair({ type: 'ec' });
  const csr = await buildServiceCsr({
    keys,
    domain: input.domain,
    service: input.service,
    provider: input.provider,
    instanceId: input.instanceId,
    dnsSuffixes: [input.dnsSuffix],
  });
  return { bearerToken, csrPem: csr.pem, keyType: keys.privateKey.algorithm.name };
}
