// The child-process harness of the crash tests: a writer child that says "ready\n" once loaded, "started\n" after
// "go" on its stdin, then one "." per completed write, and is SIGKILLed by the parent at a random moment.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

export interface WriterChild {
  proc: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  started: Promise<void>;
  /** Resolves when the child dies of SIGKILL; rejects if it exits by itself (with its stderr). */
  exited: Promise<void>;
  /** Writes it reported as completed so far. */
  writes: () => number;
}

export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Starts `node <args...>` as a writer child. */
export function spawnWriter(args: readonly string[]): WriterChild {
  const proc = spawn(process.execPath, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  let onStarted: () => void = () => undefined;
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  const started = new Promise<void>((r) => {
    onStarted = r;
  });
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (out.startsWith('ready\n')) onReady();
    if (out.startsWith('ready\nstarted\n')) onStarted();
  });
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<void>((resolve, reject) => {
    proc.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`child exited by itself (code ${code}, signal ${signal}): ${err}`));
    });
  });
  exited.catch(() => undefined); // observed in the round that owns it
  return { proc, ready, started, exited, writes: () => (out.match(/\./g) ?? []).length };
}

/**
 * `kills` rounds: a child (one always warming up while the current one runs, so spawn cost overlaps the rounds) is
 * told to go, killed after a random delay, then `onRound` looks at what it left.
 *
 * The delay is drawn up to a cap that follows the writer's speed: twice the mean time of one write so far (the time
 * the children ran divided by the writes they completed), never below `maxDelayMs` nor above 16 × `maxDelayMs`. On
 * a loaded machine, where one write takes longer than `maxDelayMs`, the kills so still fall anywhere in a write and
 * writes still complete between them, instead of every kill landing in the first write.
 */
export async function killRounds(options: {
  spawn: () => WriterChild;
  kills: number;
  maxDelayMs: number;
  /** Runs before the child of `round` is told to go (to put the files into a starting state). */
  beforeRound?: (round: number) => void;
  onRound: (round: number) => Promise<void>;
}): Promise<{ writes: number; largestDelayCapMs: number }> {
  let writes = 0;
  let ranMs = 0;
  let cap = options.maxDelayMs;
  let largestDelayCapMs = cap;
  let next = options.spawn();
  for (let round = 0; round < options.kills; round++) {
    options.beforeRound?.(round);
    const child = next;
    await within(child.ready, 15_000, 'the child to load');
    next = options.spawn();
    child.proc.stdin.write('go\n');
    await within(child.started, 15_000, 'the child to start');
    const goAt = performance.now();
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * (cap + 1))));
    ranMs += performance.now() - goAt;
    child.proc.kill('SIGKILL');
    await within(child.exited, 15_000, 'the child to die');
    writes += child.writes();
    const perWrite = writes > 0 ? ranMs / writes : cap;
    cap = Math.min(options.maxDelayMs * 16, Math.max(options.maxDelayMs, Math.round(2 * perWrite)));
    largestDelayCapMs = Math.max(largestDelayCapMs, cap);
    await options.onRound(round);
  }
  next.proc.kill('SIGKILL');
  await next.exited.catch(() => undefined);
  return { writes, largestDelayCapMs };
}
