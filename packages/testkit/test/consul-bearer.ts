// Test helper: builds aws-iam bearer tokens directly with @smithy/signature-v4 (through aws-signing.ts), not with
// @ecs-identity/consul-login, so the fake Consul is checked against the protocol. Every knob exists to produce one
// near miss the real server rejects.
import { type SignedRequest, signQuery, type TestCredentials } from './aws-signing.js';

export interface TokenParts {
  credentials: TestCredentials;
  region: string;
  date: Date;
  stsUrl?: string | undefined;
  stsParams?: [string, string][] | undefined;
  /** Add an IAM GetRole/GetUser request in the four GetEntity headers. */
  entity?: { params: [string, string][]; iamUrl?: string } | undefined;
  /** Signed into both requests as X-Consul-IAM-ServerID. */
  serverId?: string | undefined;
  /** Extra headers signed into the STS request. */
  stsHeaders?: Record<string, string> | undefined;
  /** Changes applied to the STS header map after signing (keys as they will appear in the token). */
  afterSigning?: ((headers: Record<string, string[]>) => void) | undefined;
  method?: string | undefined;
  body?: string | undefined;
  /** The STS URL written into the token, when it should differ from the one signed (`stsUrl`). */
  tokenUrl?: string | undefined;
}

/** `x-amz-date` → `X-Amz-Date` (Go's canonical MIME form). */
export const canonical = (k: string): string =>
  k
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1).toLowerCase())
    .join('-');

/** The signed request's headers as Go's http.Header JSON would carry them (no Host: Go keeps it apart). */
export function goHeaders(signed: SignedRequest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(signed.headers)) {
    if (k.toLowerCase() === 'host') continue;
    out[canonical(k)] = [v];
  }
  return out;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export interface BuiltToken {
  token: string;
  sts: SignedRequest;
  iam?: SignedRequest;
  stsHeaders: Record<string, string[]>;
}

export async function buildToken(p: TokenParts): Promise<BuiltToken> {
  const stsUrl = p.stsUrl ?? `https://sts.${p.region}.amazonaws.com/`;
  const serverIdHeader: Record<string, string> =
    p.serverId !== undefined ? { 'x-consul-iam-serverid': p.serverId } : {};
  const extra: Record<string, string> = { ...serverIdHeader, ...p.stsHeaders };
  let iam: SignedRequest | undefined;
  if (p.entity) {
    iam = await signQuery({
      credentials: p.credentials,
      region: 'us-east-1',
      service: 'iam',
      url: p.entity.iamUrl ?? 'https://iam.amazonaws.com/',
      params: p.entity.params,
      date: p.date,
      headers: serverIdHeader,
    });
    extra['x-consul-iam-getentity-method'] = 'POST';
    extra['x-consul-iam-getentity-url'] = iam.url;
    extra['x-consul-iam-getentity-headers'] = JSON.stringify(goHeaders(iam));
    extra['x-consul-iam-getentity-body'] = iam.body;
  }
  const sts = await signQuery({
    credentials: p.credentials,
    region: p.region,
    service: 'sts',
    url: stsUrl,
    params: p.stsParams ?? [
      ['Action', 'GetCallerIdentity'],
      ['Version', '2011-06-15'],
    ],
    date: p.date,
    headers: extra,
  });
  const stsHeaders = goHeaders(sts);
  p.afterSigning?.(stsHeaders);
  const token = JSON.stringify({
    iam_http_request_method: p.method ?? 'POST',
    iam_request_url: b64(p.tokenUrl ?? stsUrl),
    iam_request_body: b64(p.body ?? sts.body),
    iam_request_headers: b64(JSON.stringify(stsHeaders)),
  });
  return { token, sts, ...(iam !== undefined ? { iam } : {}), stsHeaders };
}
