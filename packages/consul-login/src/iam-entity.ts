/**
 * Which IAM entity (role or user) an ARN names, for the embedded `iam:GetRole` / `iam:GetUser` request.
 * @packageDocumentation
 */
import { ConsulError } from './errors.js';

/** The IAM entity whose details the server fetches: `GetRole` by role name or `GetUser` by user name. @public */
export type IamEntity = { readonly roleName: string } | { readonly userName: string };

// IAM: role and user names are [\w+=,.@-]{1,64}.
const NAME = /^[\w+=,.@-]{1,64}$/;

// The quoted ARN is only built when there is an error to report: entityFromArn runs for every token.
function invalidArn(arn: unknown, why: string): never {
  const shown = JSON.stringify(typeof arn === 'string' ? arn.slice(0, 120) : String(arn));
  throw new ConsulError('INVALID_ARN', `cannot tell the IAM entity of ${shown}: ${why}`);
}

/**
 * The entity an IAM role ARN (`arn:aws:iam::<acct>:role/<path>/<name>`), STS assumed-role ARN
 * (`arn:aws:sts::<acct>:assumed-role/<name>/<session>`) or IAM user ARN (`arn:aws:iam::<acct>:user/<path>/<name>`)
 * stands for. GetRole and GetUser take the NAME only: the path is dropped.
 *
 * @example
 * ```ts
 * entityFromArn('arn:aws:iam::123456789012:role/ecs/web-task'); // { roleName: 'web-task' }
 * ```
 * @public
 */
export function entityFromArn(arn: string): IamEntity {
  if (typeof arn !== 'string') return invalidArn(arn, 'expected a string');
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[1] === '') {
    return invalidArn(arn, 'expected arn:<partition>:<service>::<account>:<resource>');
  }
  const service = parts[2];
  const segments = (parts[5] ?? '').split('/');
  const type = segments[0];
  const last = segments[segments.length - 1] ?? '';
  let entity: IamEntity;
  if (service === 'sts' && type === 'assumed-role') {
    if (segments.length !== 3) return invalidArn(arn, 'expected assumed-role/<role-name>/<session-name>');
    entity = { roleName: segments[1] ?? '' };
  } else if (service === 'iam' && type === 'role' && segments.length >= 2) {
    entity = { roleName: last };
  } else if (service === 'iam' && type === 'user' && segments.length >= 2) {
    entity = { userName: last };
  } else {
    return invalidArn(arn, 'only IAM roles, assumed roles and IAM users can log in with entity details');
  }
  const name = 'roleName' in entity ? entity.roleName : entity.userName;
  if (!NAME.test(name)) invalidArn(arn, 'the name is empty or has characters IAM does not allow');
  return entity;
}
