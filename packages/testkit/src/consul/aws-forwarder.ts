import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { GoHeader } from './bearer-token.js';

/** What a forwarded AWS call returned. */
export interface ForwardResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface ForwardOptions {
  /** `endpoint + RequestURI` as consul-awsauth builds it. */
  target: URL;
  /** The signed request's host: sent as the Host header whatever the target. */
  host: string;
  method: string;
  headers: GoHeader;
  body: string;
  timeoutMs: number;
  /**
   * Where to connect instead of the target's own address: real AWS hosts are mapped to the fake AWS, since tests
   * must not leave the machine.
   */
  connectTo?: URL;
}

/**
 * Sends a request the way Go's `http.Client` does for consul-awsauth: the given Host, every header (canonical keys),
 * a Content-Length computed from the body (a Content-Length or Host entry in the header map is ignored), and
 * Go's default User-Agent when none was given. Uses node:http directly because the Host header must differ from the
 * address connected to, which fetch does not allow.
 */
export function forwardRequest(o: ForwardOptions): Promise<ForwardResponse> {
  const via = o.connectTo ?? o.target;
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(o.headers)) {
    if (k === 'Host' || k === 'Content-Length' || k === 'Transfer-Encoding') continue;
    headers[k] = v;
  }
  headers.Host = o.host;
  headers['Content-Length'] = String(Buffer.byteLength(o.body));
  headers['User-Agent'] ??= ['Go-http-client/1.1'];
  const send = via.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: via.hostname.replace(/^\[|\]$/g, ''),
        port: via.port || (via.protocol === 'https:' ? 443 : 80),
        method: o.method,
        path: o.target.pathname + o.target.search,
        headers,
        agent: false,
        timeout: o.timeoutMs,
        ...(via.protocol === 'https:' ? { servername: o.host.replace(/:\d+$/, '') } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: ([] as string[]).concat(res.headers['content-type'] ?? [])[0] ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('context deadline exceeded (Client.Timeout exceeded)')));
    req.on('error', reject);
    req.end(o.body);
  });
}
