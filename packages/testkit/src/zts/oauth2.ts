/**
 * `POST /oauth2/token` (`ZTSImpl.postAccessTokenRequest`, client-credentials over mTLS) and `GET /oauth2/keys`.
 * @packageDocumentation
 */
import { accessibleRoles, type ClientIdentity, type ZtsContext } from './config.js';
import type { ZtsReply } from './instance.js';
import { isDomainName, isSimpleName } from './names.js';
import { certificateThumbprint, jwks, signAccessToken, signIdToken } from './tokens.js';
import { badRequest, forbidden, notFound, ZtsError } from './zts-error.js';

const CALLER = 'postaccesstokenrequest';
const OBJECT_DOMAIN = ':domain';
const OBJECT_ROLE = ':role.';
const OBJECT_SERVICE = ':service.';

/** A parsed `scope` (`AccessTokenRequest`). @internal */
export interface TokenScope {
  domain: string;
  /** Requested roles; undefined = all the principal's roles (`<domain>:domain`). */
  roles: string[] | undefined;
  openid: boolean;
  service: string | undefined;
  /** Whether the response echoes the granted scope (`<domain>:domain` asked). */
  sendScope: boolean;
}

/** Parses a space-separated scope the way ZTS does; throws 400 on the same errors. @internal */
export function parseScope(scope: string): TokenScope {
  let domain: string | undefined;
  let service: string | undefined;
  let openid = false;
  let sendScope = false;
  const roles = new Set<string>();
  const setDomain = (d: string) => {
    if (d === '') throw badRequest('empty domain name');
    if (domain !== undefined && d !== domain) throw badRequest('Multiple domains in scope');
    domain = d;
  };
  for (const item of scope.split(' ').filter((s) => s !== '')) {
    if (item === 'openid') {
      openid = true;
      continue;
    }
    const svcIdx = item.indexOf(OBJECT_SERVICE);
    if (svcIdx !== -1) {
      const s = item.slice(svcIdx + OBJECT_SERVICE.length);
      if (service !== undefined && s !== service) throw badRequest('Multiple services in scope');
      setDomain(item.slice(0, svcIdx));
      service = s;
      continue;
    }
    if (item.endsWith(OBJECT_DOMAIN)) {
      setDomain(item.slice(0, -OBJECT_DOMAIN.length));
      sendScope = true;
      continue;
    }
    const roleIdx = item.indexOf(OBJECT_ROLE);
    if (roleIdx !== -1) {
      setDomain(item.slice(0, roleIdx));
      roles.add(item.slice(roleIdx + OBJECT_ROLE.length));
    }
    // anything else is skipped, as ZTS does
  }
  if (domain === undefined) throw badRequest('No domains in scope');
  if (openid && service === undefined) throw badRequest('No service name in scope');
  return { domain, roles: sendScope || roles.size === 0 ? undefined : [...roles], openid, service, sendScope };
}

/** `POST /oauth2/token`. @internal */
export async function accessToken(
  ctx: ZtsContext,
  form: string,
  client: ClientIdentity | undefined,
): Promise<ZtsReply> {
  // ZTSImpl.postAccessTokenRequest, in its order (authentication first: mTLS)
  if (!client) throw new ZtsError(401, 'Invalid credentials');
  if (form === '') throw badRequest('Empty request body');
  let grantType: string | undefined;
  let scope: string | undefined;
  let expiresIn = 0;
  let proxy = false;
  for (const [key, value] of new URLSearchParams(form)) {
    if (key === 'grant_type') grantType = value.toLowerCase();
    else if (key === 'scope') scope = value.toLowerCase();
    else if (key === 'expires_in') expiresIn = /^-?\d+$/.test(value) ? Number(value) : 0;
    else if (key === 'proxy_for_principal') proxy = true;
  }
  if (grantType !== 'client_credentials') throw badRequest(`Invalid grant request: ${grantType ?? 'null'}`);
  if (!scope) throw badRequest('Invalid request: no scope provided');
  // AccessTokenRequest (scope parsing), then validate(domain, TYPE_DOMAIN_NAME)
  const req = parseScope(scope);
  if (!isDomainName(req.domain)) throw badRequest('Invalid DomainName error: pattern mismatch: domain');
  // isAuthorizedProxyUser (the fake authorises no proxy user)
  if (proxy) throw forbidden(`Principal: ${client.principal} not authorized for proxy access token request`);
  const d = ctx.domains.get(req.domain);
  if (!d) throw notFound(`No such domain: ${req.domain}`);
  // dataStore.getAccessibleRoles, refused with tokenErrorMessage
  const roles = accessibleRoles(d, client.principal, req.roles);
  if (roles.length === 0) {
    const comment = req.roles === undefined ? 'any role' : 'the requested role(s)';
    throw forbidden(`${CALLER}: principal ${client.principal} is not included in ${comment} in domain ${req.domain}`);
  }
  // a role certificate as the client identity: its roles must cover the request
  if (client.principal.includes(':role.')) throw forbidden('Role based Principal does not include all roles');
  const max = ctx.opts.accessTokenMaxSeconds ?? 30 * 86400;
  const lifetime = expiresIn > 0 ? Math.min(expiresIn, max) : Math.min(ctx.opts.accessTokenDefaultSeconds ?? 7200, max);
  const iat = Math.floor(ctx.now() / 1000);
  const token = await signAccessToken(ctx.signer, {
    issuer: ctx.issuer,
    domain: req.domain,
    principal: client.principal,
    roles,
    issuedAt: iat,
    lifetimeSeconds: lifetime,
    certThumbprint: certificateThumbprint(client.der),
  });
  const body: Record<string, unknown> = { access_token: token, token_type: 'Bearer', expires_in: lifetime };
  if (req.openid) {
    if (!req.service || !isSimpleName(req.service)) throw badRequest('Invalid SimpleName error: pattern mismatch');
    body.id_token = await signIdToken(ctx.signer, {
      issuer: ctx.issuer,
      audience: `${req.domain}.${req.service}`,
      principal: client.principal,
      issuedAt: iat,
      lifetimeSeconds: Math.min(lifetime, ctx.opts.idTokenMaxSeconds ?? 12 * 3600),
    });
  }
  ctx.opts.onToken?.(token);
  if (typeof body.id_token === 'string') ctx.opts.onToken?.(body.id_token);
  if (req.sendScope || (req.roles !== undefined && req.roles.length !== roles.length)) {
    const granted = roles.map((r) => `${req.domain}${OBJECT_ROLE}${r}`);
    if (req.openid) granted.push('openid');
    body.scope = granted.join(' ');
  }
  return { status: 200, body };
}

/** `GET /oauth2/keys[?rfc=true]` (`ZTSImpl.getJWKList`). @internal */
export function keys(ctx: ZtsContext, rfc: boolean): ZtsReply {
  return { status: 200, body: jwks(ctx.signer, rfc) };
}
