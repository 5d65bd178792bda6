import { AwsApiError, validationError } from './errors.js';
import type { CallerIdentity, FakeRole, FakeUser, IssuedCredentials } from './principals.js';
import { trusts } from './principals.js';
import type { XmlNode } from './xml.js';

// The four operations, validated the way STS / IAM validate them. Each returns the `<Action>Result` children.

export const STS_VERSION = '2011-06-15';
export const IAM_VERSION = '2010-05-08';
export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

export type AwsService = 'sts' | 'iam';
export const ACTIONS: Record<string, AwsService> = {
  GetCallerIdentity: 'sts',
  AssumeRole: 'sts',
  GetRole: 'iam',
  GetUser: 'iam',
};

/** What the operations need from the emulator. */
export interface ActionContext {
  readonly caller: CallerIdentity;
  readonly params: URLSearchParams;
  readonly now: number;
  findRoleByArn(arn: string): FakeRole | undefined;
  findRole(name: string): FakeRole | undefined;
  findUser(name: string): FakeUser | undefined;
  issueSession(role: FakeRole, sessionName: string, lifetimeMs: number): IssuedCredentials;
  iamAccess(caller: CallerIdentity, action: string, resourceArn: string): boolean;
}

const SESSION_NAME = /^[\w+=,.@-]*$/;
const ROLE_ARN = /^arn:[\w-]+:iam::\d{12}:role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]+$/;

/** AWS's timestamp form in XML: seconds precision, `Z`. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const notNull = (field: string): AwsApiError =>
  validationError(
    `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
  );

function tagsXml(tags: Readonly<Record<string, string>>): XmlNode[] {
  return Object.entries(tags).map(
    ([Key, Value]): XmlNode => [
      'member',
      [
        ['Key', Key],
        ['Value', Value],
      ],
    ],
  );
}

function getCallerIdentity(ctx: ActionContext): XmlNode[] {
  return [
    ['Arn', ctx.caller.arn],
    ['UserId', ctx.caller.userId],
    ['Account', ctx.caller.account],
  ];
}

function assumeRole(ctx: ActionContext): XmlNode[] {
  const roleArn = ctx.params.get('RoleArn');
  const sessionName = ctx.params.get('RoleSessionName');
  const durationText = ctx.params.get('DurationSeconds');
  const problems: string[] = [];
  if (roleArn === null) throw notNull('roleArn');
  if (sessionName === null) throw notNull('roleSessionName');
  if (roleArn.length < 20 || roleArn.length > 2048) {
    problems.push(
      `Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`,
    );
  }
  if (sessionName.length < 2) {
    problems.push(
      `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2`,
    );
  } else if (sessionName.length > 64) {
    problems.push(
      `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64`,
    );
  }
  if (!SESSION_NAME.test(sessionName)) {
    problems.push(
      `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  let duration = 3600;
  if (durationText !== null) {
    duration = /^\d+$/.test(durationText) ? Number(durationText) : Number.NaN;
    if (Number.isNaN(duration)) {
      throw new AwsApiError('MalformedInput', `Invalid value for parameter DurationSeconds: '${durationText}'`, 400);
    }
    if (duration < 900) {
      problems.push(
        `Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
      );
    } else if (duration > 43200) {
      problems.push(
        `Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`,
      );
    }
  }
  if (problems.length > 0) {
    const n = problems.length;
    throw validationError(`${n} validation error${n > 1 ? 's' : ''} detected: ${problems.join('; ')}`);
  }
  if (!ROLE_ARN.test(roleArn)) throw validationError(`${roleArn} is invalid`);

  const role = ctx.findRoleByArn(roleArn);
  // AWS answers the same AccessDenied for a missing role and an untrusted caller, so probing reveals nothing.
  if (role === undefined || !trusts(role.trust, ctx.caller)) {
    throw new AwsApiError(
      'AccessDenied',
      `User: ${ctx.caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      403,
    );
  }
  if (ctx.caller.kind === 'role-session' && duration > 3600) {
    throw validationError(
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  }
  if (duration > role.maxSessionDurationSeconds) {
    throw validationError('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  const creds = ctx.issueSession(role, sessionName, duration * 1000);
  return [
    [
      'Credentials',
      [
        ['AccessKeyId', creds.accessKeyId],
        ['SecretAccessKey', creds.secretAccessKey],
        ['SessionToken', creds.sessionToken],
        ['Expiration', isoSeconds(creds.expiresAt!.getTime())],
      ],
    ],
    [
      'AssumedRoleUser',
      [
        ['AssumedRoleId', `${role.roleId}:${sessionName}`],
        ['Arn', assumedRoleArn(role, sessionName)],
      ],
    ],
  ];
}

/** `arn:<partition>:sts::<acct>:assumed-role/<name>/<session>`: assumed-role ARNs carry no path. */
export function assumedRoleArn(role: FakeRole, sessionName: string): string {
  const [, partition, , , account] = role.arn.split(':');
  return `arn:${partition}:sts::${account}:assumed-role/${role.name}/${sessionName}`;
}

function iamDenied(ctx: ActionContext, action: string, resource: string): AwsApiError {
  return new AwsApiError(
    'AccessDenied',
    `User: ${ctx.caller.arn} is not authorized to perform: iam:${action} on resource: ${resource} ` +
      `because no identity-based policy allows the iam:${action} action`,
    403,
  );
}

function getRole(ctx: ActionContext): XmlNode[] {
  const name = ctx.params.get('RoleName');
  if (name === null) throw notNull('roleName');
  const role = ctx.findRole(name);
  const resource = role?.arn ?? `arn:aws:iam::${ctx.caller.account}:role/${name}`;
  if (!ctx.iamAccess(ctx.caller, 'GetRole', resource)) throw iamDenied(ctx, 'GetRole', `role ${name}`);
  if (role === undefined) throw new AwsApiError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404);
  const trustDoc = encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [] }));
  return [
    [
      'Role',
      [
        ['Path', role.path],
        ['Arn', role.arn],
        ['RoleName', role.name],
        ['AssumeRolePolicyDocument', trustDoc],
        ['CreateDate', isoSeconds(role.createdAt.getTime())],
        ['RoleId', role.roleId],
        ['MaxSessionDuration', role.maxSessionDurationSeconds],
        ['Tags', Object.keys(role.tags).length > 0 ? tagsXml(role.tags) : undefined],
        ['RoleLastUsed', []],
      ],
    ],
  ];
}

function getUser(ctx: ActionContext): XmlNode[] {
  const name = ctx.params.get('UserName');
  let user: FakeUser | undefined;
  if (name === null) {
    if (ctx.caller.kind !== 'user')
      throw validationError('Must specify userName when calling with non-User credentials');
    user = ctx.caller.user;
  } else {
    user = ctx.findUser(name);
    const resource = user?.arn ?? `arn:aws:iam::${ctx.caller.account}:user/${name}`;
    if (!ctx.iamAccess(ctx.caller, 'GetUser', resource)) throw iamDenied(ctx, 'GetUser', `user ${name}`);
    if (user === undefined) throw new AwsApiError('NoSuchEntity', `The user with name ${name} cannot be found.`, 404);
  }
  const u = user!;
  return [
    [
      'User',
      [
        ['Path', u.path],
        ['UserName', u.name],
        ['UserId', u.userId],
        ['Arn', u.arn],
        ['CreateDate', isoSeconds(u.createdAt.getTime())],
        ['Tags', Object.keys(u.tags).length > 0 ? tagsXml(u.tags) : undefined],
      ],
    ],
  ];
}

export const HANDLERS: Record<string, (ctx: ActionContext) => XmlNode[]> = {
  GetCallerIdentity: getCallerIdentity,
  AssumeRole: assumeRole,
  GetRole: getRole,
  GetUser: getUser,
};
