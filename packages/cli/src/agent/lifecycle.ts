/**
 * The agent's life as a long-running command: listen for SIGTERM / SIGINT from the first moment, start up, run until a
 * stop signal or a fatal error, clean up, and only then decide the exit status; every way out lets go of the process.
 *
 * TODO(merge): use the CLI lifecycle from issue 11 (`long-running.ts`: `withStopListener` and `superviseRun` over
 * `io.waitForStop(until)`, which releases its keep-alive when the command ends). Until that lands, `io.waitForStop()`
 * keeps the process alive after a fatal error, so this file listens on the process itself; the names and shapes are
 * issue 11's, so the switch is an import.
 * @packageDocumentation
 */
import type { CliIo } from '../command.js';

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
 * Listens for SIGTERM / SIGINT while `body` runs, keeping the process alive meanwhile, then lets go whichever way
 * `body` ends.
 * @internal
 */
export async function withStopListener<T>(_io: CliIo, body: (stop: StopListener) => Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => {}, 2 ** 30);
  let on: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    on = (signal) => resolve(signal);
  });
  process.once('SIGTERM', on);
  process.once('SIGINT', on);
  try {
    return await body({ stopped });
  } finally {
    process.off('SIGTERM', on);
    process.off('SIGINT', on);
    clearInterval(keepAlive);
  }
}

/**
 * Runs `start`, then waits for a stop signal or a call to `fail`. Start-up is told to give up (its signal aborts) as
 * soon as either comes and is always waited for, so the cleanup sees everything start-up made. With `exitAfterStart`
 * a successful start-up is the end (init mode).
 * @internal
 */
export async function superviseRun(
  stop: StopListener,
  start: (control: RunControl) => Promise<void>,
  exitAfterStart = false,
): Promise<RunEnd | { readonly started: true }> {
  const ended = new AbortController();
  let fail: (error: unknown) => void = () => {};
  const fatal = new Promise<RunEnd>((resolve) => {
    fail = (error) => {
      if (!ended.signal.aborted) ended.abort(error);
      resolve({ error });
    };
  });
  const stopped = stop.stopped.then((signal): RunEnd => {
    if (!ended.signal.aborted) ended.abort(new Error(`stopped by ${signal}`));
    return { stopped: signal };
  });
  // Start-up's own outcome: undefined when it succeeded.
  const started = (async () => start({ signal: ended.signal, fail: (e) => fail(e) }))().then(
    () => undefined,
    (error: unknown) => ({ error }) as RunEnd,
  );
  const first = await Promise.race([started.then((r) => ({ startup: r })), stopped, fatal]);
  let end: RunEnd | { readonly started: true };
  if (!('startup' in first)) end = first;
  else if (first.startup === undefined) end = exitAfterStart ? { started: true } : await Promise.race([stopped, fatal]);
  // Start-up failed because it was told to give up: what told it is the end.
  else end = ended.signal.aborted ? await Promise.race([stopped, fatal]) : first.startup;
  // Start-up honours the signal, so this wait is short; the cleanup must not run while it still creates things.
  await started;
  return end;
}
