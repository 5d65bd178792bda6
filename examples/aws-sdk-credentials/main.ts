/**
 * The task role's container credentials as an AWS SDK v3 client's `credentials`: ecs-metadata's refreshing
 * `containerCredentials()` provider, adapted with `toAwsCredentialIdentityProvider()`, then STS GetCallerIdentity.
 *
 * `pnpm exec tsx examples/aws-sdk-credentials/main.ts [--emulators]`
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { IdentityError } from '@ecs-identity/core';
import { containerCredentials, toAwsCredentialIdentityProvider } from '@ecs-identity/ecs-metadata';
import { taskEnvironment } from '../shared/environment.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const task = await taskEnvironment(process.argv.slice(2));
const { env, world } = task;
const credentials = containerCredentials({ env }); // refreshed 5 minutes before expiry, on an unref'd timer
const sts = new STSClient({
  region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
  credentials: toAwsCredentialIdentityProvider(credentials),
  // On the emulators, STS is the fake AWS on 127.0.0.1; in a task, the SDK's regional endpoint.
  ...(world ? { endpoint: world.aws.url } : {}),
});

try {
  // Two calls: the second is signed with the cached credentials (the provider, not the SDK, caches them).
  for (const n of [1, 2]) {
    const who = await sts.send(new GetCallerIdentityCommand({}));
    console.log(`GetCallerIdentity #${n}: ${who.Arn} (account ${who.Account})`);
  }
  const { accessKeyId, expiresAt, roleArn } = await credentials.get(); // the secret key and token never print
  console.log(`task role ${roleArn ?? '(not given)'}, access key ${accessKeyId}, expires ${expiresAt?.toISOString()}`);
  if (world) console.log(`the ECS agent issued ${world.agent.credentialsIssued} credential set(s) for both calls`);
} catch (e) {
  console.error(`failed: ${IdentityError.is(e) ? `${e.code}: ` : ''}${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  sts.destroy();
  await credentials.close();
  await task.close();
}
