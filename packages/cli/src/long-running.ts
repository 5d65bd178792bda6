/**
 * The life of a long-running command (`athenz run`, `consul run`): it listens for SIGTERM / SIGINT from its first
 * moment, starts up, runs until a stop signal or a fatal error, cleans up, and only then decides its exit status.
 * Every way out ends the stop listener, so nothing keeps the process alive once the status is known. Browser-safe:
 * the process is reached only through {@link CliIo}.
 * @packageDocumentation
 */
import type { CliIo } from './command.js';

/** How a run ended: a stop signal (`SIGTERM`, `SIGINT`), or a fatal error. @internal */
export type RunEnd = { readonly stopped: string } | { readonly error: unknown };

/** What start-up gets: a signal to honour, and the way to end the run with a fatal error. @internal */
export interface RunControl {
  /** Aborted when the run ends (stop signal or fatal error): pass it to every start-up wait. */
  readonly signal: AbortSignal;
  /** Ends the run with `error` (exit status 1 after the cleanup). Only the first call counts. */
  fail(error: unknown): void;
}

/** A stop listener that lives as long as one command. @internal */
export interface StopListener {
  /** Resolves with the signal name on SIGTERM / SIGINT. */
  readonly stopped: Promise<string>;
}

/**
 * Listens for SIGTERM / SIGINT while `body` runs (and keeps the process alive meanwhile), then lets go, whichever way
 * `body` ends. Call it before any slow step (module loading included), so a stop during start-up is seen.
 * @internal
 */
export async function withStopListener<T>(io: CliIo, body: (stop: StopListener) => Promise<T>): Promise<T> {
  const done = new AbortController();
  const stopped = io.waitForStop(done.signal);
  try {
    return await body({ stopped });
  } finally {
    done.abort();
  }
}

/**
 * Runs `start` (start-up: first credentials, first files), then waits for a stop signal or a call to `fail`.
 * Start-up is told to give up (its signal aborts) as soon as either comes, and is always waited for, so the caller's
 * cleanup sees everything start-up made. A stop during start-up is a stop, not a failure.
 * @internal
 */
export async function superviseRun(stop: StopListener, start: (control: RunControl) => Promise<void>): Promise<RunEnd> {
  const ended = new AbortController();
  let fail: (error: unknown) => void = () => {};
  const fatal = new Promise<RunEnd>((resolve) => {
    fail = (error) => {
      ended.abort(error);
      resolve({ error });
    };
  });
  const stopped = stop.stopped.then((signal): RunEnd => {
    ended.abort(new Error(`stopped by ${signal}`));
    return { stopped: signal };
  });
  const started = (async () => start({ signal: ended.signal, fail: (e) => fail(e) }))().then(
    () => undefined,
    (error: unknown): RunEnd => ({ error }),
  );
  const first = await Promise.race([started, stopped, fatal]);
  // After a stop or a fatal error, start-up may fail because it was told to give up: what told it is the end.
  const end = first !== undefined && !ended.signal.aborted ? first : await Promise.race([stopped, fatal]);
  // Start-up honours the signal, so this wait is short; the caller must not clean up while it still creates things.
  await started;
  return end;
}
