/**
 * Where an example runs: in a real ECS task (its environment has the ECS agent's variables), or on the embedded
 * emulators (`--emulators`, or automatically when no ECS variable is set).
 * @packageDocumentation
 */
import { startTaskEmulators, type TaskEmulators } from '@ecs-identity/testkit';

/** The variables that say "this process runs in an ECS task". */
export const ECS_VARIABLES = [
  'ECS_CONTAINER_METADATA_URI_V4',
  'ECS_CONTAINER_METADATA_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
] as const;

/** True when `env` has any of {@link ECS_VARIABLES}. */
export function inEcsTask(env: Record<string, string | undefined>): boolean {
  return ECS_VARIABLES.some((k) => (env[k] ?? '') !== '');
}

/** @public */
export interface TaskEnvironment {
  /** The environment to hand to the packages (`env` options). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The emulators, when the example runs on them. */
  readonly world: TaskEmulators | undefined;
  /** Stops the emulators, if any. */
  close(): Promise<void>;
}

/**
 * The real environment, or the emulators' when `--emulators` is among `argv` or `env` has no ECS variable.
 * `say` is told which one was chosen.
 * @public
 */
export async function taskEnvironment(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
  say: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<TaskEnvironment> {
  const forced = argv.includes('--emulators');
  if (!forced && inEcsTask(env)) {
    say('running in an ECS task (ECS variables found)');
    return { env, world: undefined, close: async () => {} };
  }
  const world = await startTaskEmulators();
  say(
    forced
      ? 'running on the embedded emulators (--emulators)'
      : 'no ECS variables found: running on the embedded emulators (ECS agent, AWS, Consul, ZTS on 127.0.0.1)',
  );
  // The emulated task's variables over the process's own (PATH, HOME...), as in a container.
  return { env: { ...env, ...world.env }, world, close: () => world.close() };
}
