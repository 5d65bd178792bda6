/**
 * `ecs-identity doctor`, the run: the task checks, then the Athenz checks when `-zts` is given and the Consul checks
 * when a Consul address is (flag or `CONSUL_HTTP_ADDR`); each check has its own deadline, and a check whose input
 * failed is skipped rather than failed again.
 * @packageDocumentation
 */
import { consulAclClient } from '@ecs-identity/consul-login';
import type { RefreshingProvider } from '@ecs-identity/core';
import type { AwsCredentials } from '@ecs-identity/ecs-metadata';
import { containerCredentials } from '@ecs-identity/ecs-metadata';
import { rolePathOf, ztsBaseUrl } from '../athenz-setup.js';
import type { CommandContext } from '../command.js';
import { connection } from '../consul-actions.js';
import { splitList, UsageError } from '../flags.js';
import { readTextFile } from '../read-file.js';
import {
  athenzPartitionCheck,
  athenzServiceCheck,
  attestationRoleCheck,
  doctorContext,
  ztsCheck,
} from './athenz-checks.js';
import { consulReachCheck, entityCheck, loginCheck, stsEndpointCheck, tagsCheck } from './consul-checks.js';
import { type CheckResult, exitStatus, renderJson, renderTable, result } from './report.js';
import { clockCheck, envCheck, readMetadata, taskRoleCheck } from './task-checks.js';

/** Runs every check that applies and prints the report; the exit status is 1 when a check failed. @internal */
export async function runDoctor(ctx: CommandContext): Promise<number> {
  const { values, sources, io, logger } = ctx;
  const timeoutMs = values['timeout-ms'] as number;
  const agentUrl = values['ecs-agent-url'] as string;
  const withAthenz = typeof values.zts === 'string' && values.zts !== '';
  const withConsul = sources['http-addr'] !== undefined && sources['http-addr'] !== 'default';
  // Flag mistakes are usage errors (status 2) before anything is asked over the network.
  const ztsUrl = withAthenz ? ztsBaseUrl(values.zts as string, values.ztsport as number) : undefined;
  const rolePath = rolePathOf(ctx);
  const ztsCa =
    withAthenz && typeof values.ztscacert === 'string'
      ? await readTextFile(values.ztscacert, 'ZTS CA file (-ztscacert)')
      : undefined;
  if (values['consul-login'] === true && !withConsul) {
    throw new UsageError('-consul-login needs a Consul address: -http-addr or CONSUL_HTTP_ADDR');
  }
  const acl = withConsul ? consulAclClient({ ...connection(ctx), timeoutMs }) : undefined;

  const results: CheckResult[] = [envCheck(io.env, agentUrl)];
  const { check: metadataResult, metadata, task } = await readMetadata(io.env, agentUrl, timeoutMs);
  results.push(metadataResult, clockCheck(metadata, values['max-clock-error-ms'] as number));

  let credentials: RefreshingProvider<AwsCredentials> | undefined;
  const openCredentials = () => {
    credentials = containerCredentials({
      env: io.env,
      agentUrl,
      refresh: { background: false },
      timeoutMs: Math.min(timeoutMs, 2000),
      fetchTimeoutMs: timeoutMs,
      logger,
    });
    return credentials;
  };
  try {
    const { check: roleResult, roleArn } = await taskRoleCheck(openCredentials, timeoutMs);
    results.push(roleResult);
    const haveCredentials = roleResult.status !== 'fail' ? credentials : undefined;

    if (ztsUrl === undefined) {
      results.push(result('athenz', 'skip', 'no -zts given: the Athenz checks did not run'));
    } else {
      const context = doctorContext(values, rolePath, task, haveCredentials, timeoutMs);
      try {
        const { check: serviceResult, service } = await athenzServiceCheck(values, context, roleArn);
        results.push(
          serviceResult,
          athenzPartitionCheck(task),
          await attestationRoleCheck(service, timeoutMs),
          await ztsCheck(ztsUrl, ztsCa, timeoutMs),
        );
      } finally {
        await context?.close();
      }
    }

    if (acl === undefined) {
      results.push(result('consul', 'skip', 'no -http-addr or CONSUL_HTTP_ADDR: the Consul checks did not run'));
    } else {
      results.push(await consulReachCheck(acl, timeoutMs), stsEndpointCheck(values, task));
      const { check: entityResult, role } = await entityCheck(values, task, haveCredentials, timeoutMs);
      results.push(
        entityResult,
        tagsCheck(splitList(values['consul-tags']), role),
        await loginCheck(values, acl, task, haveCredentials, timeoutMs),
      );
    }
  } finally {
    await credentials?.close();
  }

  io.stdout(values.json === true ? renderJson(results) : renderTable(results));
  return exitStatus(results);
}
