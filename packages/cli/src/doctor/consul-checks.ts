/**
 * The Consul checks: the server's reachability, TLS and ACLs; the STS (and IAM) hosts the bearer token will carry
 * against what an auth method accepts by default; the task role's `iam:GetRole` on itself and its tags (what entity
 * details need), through the very request the bearer token embeds; and, when asked, a real login and logout.
 * @packageDocumentation
 */
import {
  type ConsulAclClient,
  consulLogin,
  defaultIamEndpoint,
  defaultStsEndpoint,
  getIamEntity,
  type IamEntityDetails,
} from '@ecs-identity/consul-login';
import { type CredentialProvider, IdentityError, registerSecret } from '@ecs-identity/core';
import type { AwsCredentials, TaskIdentity } from '@ecs-identity/ecs-metadata';
import type { CommandContext } from '../command.js';
import { awsOptions } from '../consul-actions.js';
import { unreachableHint, unreachableKind } from './reachability.js';
import { type CheckResult, errorText, result } from './report.js';

type Values = CommandContext['values'];

const str = (values: Values, name: string): string | undefined => {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/** A SecretID no token has: the self-read answers `ACL not found` from a Consul with ACLs on. */
const PROBE_TOKEN = '00000000-0000-0000-0000-000000000000';

/** Consul answers, over TLS when the address is https, and has ACLs enabled (an aws-iam login needs them). */
export async function consulReachCheck(acl: ConsulAclClient, timeoutMs: number): Promise<CheckResult> {
  const name = 'consul';
  const addressFlags = '-http-addr / CONSUL_HTTP_ADDR (and CONSUL_HTTP_SSL)';
  try {
    // The client's per-request timeout (timeoutMs) is the deadline.
    await acl.readSelf(PROBE_TOKEN, { stale: true });
    return result(name, 'ok', `${acl.address} answered (ACLs enabled)`);
  } catch (e) {
    if (IdentityError.is(e, 'CONSUL_TOKEN_NOT_FOUND')) {
      return result(name, 'ok', `${acl.address} answered (ACLs enabled)`);
    }
    if (IdentityError.is(e, 'CONSUL_ACL_DISABLED')) {
      return result(
        name,
        'fail',
        `${acl.address}: ${errorText(e)}`,
        'an aws-iam login needs ACLs: enable them on the Consul servers (acl { enabled = true })',
      );
    }
    return result(
      name,
      'fail',
      errorText(e),
      unreachableHint(
        unreachableKind(e),
        `Consul at ${acl.address}`,
        '-ca-file / CONSUL_CACERT',
        addressFlags,
        timeoutMs,
      ),
    );
  }
}

/** consul-awsauth's default host rule for the STS (`sts.`) and IAM (`iam.`) requests of a bearer token. */
function acceptedByDefault(url: string, service: 'sts' | 'iam'): boolean {
  const host = new URL(url).hostname.toLowerCase();
  return (host.startsWith(`${service}.`) || host.startsWith(`${service}-fips.`)) && host.endsWith('.amazonaws.com');
}

/** The endpoints the bearer token will carry: `-aws-sts-endpoint` / `-aws-iam-endpoint`, else the region's. */
export function tokenEndpoints(values: Values, region: string): { sts: string; iam: string | undefined } {
  const entity = values['aws-include-entity'] !== false;
  return {
    sts: str(values, 'aws-sts-endpoint') ?? defaultStsEndpoint(region).url,
    iam: entity ? (str(values, 'aws-iam-endpoint') ?? defaultIamEndpoint(region).url) : undefined,
  };
}

/**
 * Unless the auth method sets `STSEndpoint` (and `IAMEndpoint`), Consul refuses a token whose STS host is not
 * `sts[-fips].*.amazonaws.com`: every aws-cn host (`.amazonaws.com.cn`), a VPC endpoint, a test server.
 */
export function stsEndpointCheck(values: Values, task: TaskIdentity | undefined): CheckResult {
  const name = 'consul sts endpoint';
  const region = str(values, 'aws-region') ?? task?.region;
  if (region === undefined) return result(name, 'skip', 'needs the task metadata (or -aws-region)');
  let endpoints: { sts: string; iam: string | undefined };
  try {
    endpoints = tokenEndpoints(values, region);
  } catch (e) {
    return result(name, 'fail', errorText(e), 'pass -aws-sts-endpoint and -aws-iam-endpoint with the URLs to use');
  }
  const refused = [
    ...(acceptedByDefault(endpoints.sts, 'sts') ? [] : [`STSEndpoint ${endpoints.sts}`]),
    ...(endpoints.iam === undefined || acceptedByDefault(endpoints.iam, 'iam') ? [] : [`IAMEndpoint ${endpoints.iam}`]),
  ];
  const carried = `the token carries STS ${endpoints.sts}${endpoints.iam ? ` and IAM ${endpoints.iam}` : ''}`;
  if (refused.length === 0) return result(name, 'ok', `${carried}: accepted by any aws-iam auth method`);
  return result(
    name,
    'warn',
    `${carried}; Consul accepts only sts[-fips].*.amazonaws.com and iam[-fips].*.amazonaws.com unless the auth method names the endpoint`,
    `the auth method's config must set ${refused.join(' and ')} (in aws-cn every endpoint needs this); -consul-login tries it`,
  );
}

/**
 * With entity details, Consul forwards the `iam:GetRole` request the task signs (for its own role) and binds on the
 * role's path and tags. This sends that very request, built by `buildBearerToken`, and reads the role back.
 */
export async function entityCheck(
  values: Values,
  task: TaskIdentity | undefined,
  credentials: CredentialProvider<AwsCredentials> | undefined,
  timeoutMs: number,
): Promise<{ check: CheckResult; role?: IamEntityDetails }> {
  const name = 'consul iam:GetRole';
  if (values['aws-include-entity'] === false) {
    return { check: result(name, 'skip', '-aws-include-entity=false: the token embeds no iam:GetRole request') };
  }
  const region = str(values, 'aws-region') ?? task?.region;
  if (region === undefined || credentials === undefined) {
    return { check: result(name, 'skip', 'needs the task metadata and the task role') };
  }
  let iamUrl = '';
  try {
    const creds = await credentials.get({ signal: AbortSignal.timeout(timeoutMs) });
    const endpoints = tokenEndpoints(values, region);
    iamUrl = endpoints.iam ?? '';
    const role = await getIamEntity({
      credentials: creds,
      region,
      stsEndpoint: endpoints.sts,
      iamEndpoint: endpoints.iam,
      serverIdHeaderValue: str(values, 'aws-server-id-header-value'),
      timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return {
      check: result(name, 'ok', `the task role may read itself: ${role.arn} (path ${role.path})`),
      role,
    };
  } catch (e) {
    // IAM refused the request Consul would forward: AccessDenied (403) when the role may not read itself.
    if (IdentityError.is(e, 'HTTP_STATUS', 'INVALID_CREDENTIALS') && e.status !== undefined && e.status < 500) {
      return {
        check: result(
          name,
          'warn',
          `IAM refused it: ${errorText(e)}`,
          e.status === 403
            ? "an auth method with EnableIAMEntityDetails (consul-ecs's default) forwards this request and refuses the login: allow iam:GetRole on the task role's own ARN in its policy, or log in with -aws-include-entity=false if the method does not use entity details"
            : 'the signed GetRole request was refused; an auth method with entity details will refuse the login the same way',
        ),
      };
    }
    return {
      check: result(
        name,
        'warn',
        `not checked: ${errorText(e)}`,
        `${unreachableHint(unreachableKind(e), `IAM at ${iamUrl || 'the IAM endpoint'}`, 'the system CA bundle', '-aws-iam-endpoint', timeoutMs)} (the Consul servers call IAM, not the task: this only means the doctor could not check)`,
      ),
    };
  }
}

/** The tags the auth method's binding rules read (`entity_tags.<key>`), on the task role. */
export function tagsCheck(wanted: readonly string[], role: IamEntityDetails | undefined): CheckResult {
  const name = 'consul role tags';
  if (wanted.length === 0) return result(name, 'skip', 'no tags asked for (-consul-tags)');
  if (role === undefined) return result(name, 'skip', 'needs the role from iam:GetRole');
  const missing = wanted.filter((t) => !(t in role.tags));
  const present = wanted.filter((t) => t in role.tags).map((t) => `${t}=${role.tags[t]}`);
  if (missing.length === 0) return result(name, 'ok', present.join(', '));
  return result(
    name,
    'warn',
    `the task role has no tag ${missing.join(', ')}${present.length > 0 ? ` (has ${present.join(', ')})` : ''}`,
    `a binding rule that reads \${entity_tags.${missing[0]}} binds nothing for this task: tag the role (consul-ecs names the Consul service with consul.hashicorp.com.service-name), and list the tag in the auth method's IAMEntityTags`,
  );
}

const LOGIN_HINTS: Partial<Record<string, string>> = {
  CONSUL_AUTH_METHOD_NOT_FOUND:
    '-method names no auth method in this datacenter / partition: create it, or pass the right -method, -datacenter, -partition',
  CONSUL_PRINCIPAL_NOT_TRUSTED:
    "add the task role's ARN to the auth method's BoundIAMPrincipalARNs (with entity details, a path wildcard such as role/ecs/* works)",
  CONSUL_PERMISSION_DENIED:
    "no binding rule matched this task: check the rules' selectors and the role tags they read (consul role tags above)",
  CONSUL_LOGIN_FAILED:
    "Consul's answer names the rule that failed: -aws-server-id-header-value must equal the method's ServerIDHeaderValue, and STSEndpoint / IAMEndpoint the token's URLs (consul sts endpoint above)",
  CONSUL_ACL_DISABLED: 'enable ACLs on the Consul servers',
};

/** A real login with the task role, logged out again at once: the one check that sees the auth method's config. */
export async function loginCheck(
  values: Values,
  acl: ConsulAclClient,
  task: TaskIdentity | undefined,
  credentials: CredentialProvider<AwsCredentials> | undefined,
  timeoutMs: number,
): Promise<CheckResult> {
  const name = 'consul login';
  if (values['consul-login'] !== true) return result(name, 'skip', 'not asked for (-consul-login)');
  if (task === undefined || credentials === undefined) {
    return result(name, 'skip', 'needs the task metadata and the task role');
  }
  const method = values.method as string;
  try {
    const token = await consulLogin({
      acl,
      authMethod: method,
      task,
      credentials,
      aws: awsOptions(values),
      replication: false,
      retry: { maxAttempts: 1 },
      signal: AbortSignal.timeout(timeoutMs),
    });
    registerSecret(token.secretId);
    const identities = token.serviceIdentities.map((s) => s.serviceName);
    let loggedOut = 'logged out again';
    try {
      await acl.logout(token);
    } catch (e) {
      loggedOut = `logging out failed (${errorText(e)}): delete token ${token.accessorId} by hand`;
    }
    return result(
      name,
      'ok',
      `${method}: token ${token.accessorId}${identities.length > 0 ? ` for service ${identities.join(', ')}` : ''}; ${loggedOut}`,
    );
  } catch (e) {
    const code = IdentityError.is(e) ? e.code : '';
    return result(
      name,
      'fail',
      errorText(e),
      LOGIN_HINTS[code] ??
        unreachableHint(
          unreachableKind(e),
          `Consul at ${acl.address}`,
          '-ca-file / CONSUL_CACERT',
          '-http-addr',
          timeoutMs,
        ),
    );
  }
}
