/**
 * The demo's output for a person: one ✔ / ✖ line per step with its time, the key facts indented below it, and a
 * progress indication while something slow runs (a spinner on a terminal, one plain "…" line otherwise). Colour only
 * on a terminal and never with NO_COLOR.
 * @packageDocumentation
 */
import { IdentityError, scrubSecrets } from '@ecs-identity/core';

/** Where the demo writes (process.stdout, or a collecting stream in tests). */
export interface Output {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  /** Terminal width: the spinner line is cut to it, so erasing it with `\r` works. */
  readonly columns?: number;
}

/** A fact printed under a step: `label  value`. */
export type Fact = readonly [label: string, value: string];

/** The result a step's function hands back: what to keep, and what to print. */
export interface StepOutcome<T> {
  value: T;
  facts: Fact[];
}

/** Lets a step show that it is busy (RSA key generation) without printing anything permanent on a terminal. */
export interface Progress {
  start(message: string): void;
  stop(): void;
}

/** A failed step: the demo's exit message names it. */
export class StepFailure extends Error {
  constructor(
    readonly step: number,
    readonly title: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`step ${step} (${title}) failed: ${reason}`, options);
    this.name = 'StepFailure';
  }
}

/** `CODE: message` for an IdentityError, the message otherwise; secrets registered with core are scrubbed. */
export function describeError(e: unknown): string {
  if (IdentityError.is(e)) return scrubSecrets(`${e.code}: ${e.message}`);
  if (e instanceof Error) return scrubSecrets(`${e.name}: ${e.message}`);
  return scrubSecrets(String(e));
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPIN_MS = 80;

export interface ReporterOptions {
  out: Output;
  /** Colour and spinner: default when `out` is a TTY and NO_COLOR is unset. */
  color?: boolean;
  tty?: boolean;
  env?: Record<string, string | undefined>;
  /** Milliseconds, for step times (injectable for tests). */
  now?: () => number;
  /** Step titles are padded to this width so the times line up. Default 0. */
  titleWidth?: number;
}

/** Prints steps. */
export class Reporter {
  readonly tty: boolean;
  readonly color: boolean;
  readonly times: { step: number; title: string; ms: number; ok: boolean }[] = [];
  private readonly out: Output;
  private readonly now: () => number;
  private readonly titleWidth: number;

  constructor(options: ReporterOptions) {
    this.out = options.out;
    this.tty = options.tty ?? options.out.isTTY === true;
    const env = options.env ?? process.env;
    const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
    this.color = options.color ?? (this.tty && !noColor);
    this.now = options.now ?? (() => performance.now());
    this.titleWidth = options.titleWidth ?? 0;
  }

  private heading(n: number, title: string): string {
    return this.bold(`${n}. ${title}`.padEnd(this.titleWidth + 3));
  }

  private paint(code: string, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
  bold = (t: string): string => this.paint('1', t);
  dim = (t: string): string => this.paint('2', t);
  green = (t: string): string => this.paint('32', t);
  red = (t: string): string => this.paint('31', t);
  cyan = (t: string): string => this.paint('36', t);

  line(text = ''): void {
    this.out.write(`${text}\n`);
  }

  /** Runs one step: prints its ✔ line and facts, or its ✖ line and throws a {@link StepFailure}. */
  async step<T>(n: number, title: string, fn: (progress: Progress) => Promise<StepOutcome<T>>): Promise<T> {
    const t0 = this.now();
    const progress = this.progress(n, title);
    let outcome: StepOutcome<T>;
    try {
      outcome = await fn(progress);
    } catch (e) {
      progress.stop();
      const ms = this.now() - t0;
      this.times.push({ step: n, title, ms, ok: false });
      const reason = describeError(e);
      this.line(`${this.red('✖')} ${this.heading(n, title)} ${this.dim(formatMs(ms))}`);
      this.line(`    ${this.red(reason)}`);
      throw new StepFailure(n, title, reason, { cause: e });
    }
    progress.stop();
    const ms = this.now() - t0;
    this.times.push({ step: n, title, ms, ok: true });
    this.line(`${this.green('✔')} ${this.heading(n, title)} ${this.dim(formatMs(ms))}`);
    const width = Math.max(0, ...outcome.facts.map(([label]) => label.length));
    for (const [label, value] of outcome.facts) this.line(`    ${this.dim(label.padEnd(width))}  ${value}`);
    return outcome.value;
  }

  private progress(n: number, title: string): Progress {
    let timer: ReturnType<typeof setInterval> | undefined;
    let shown = false;
    return {
      start: (message) => {
        if (shown) return;
        shown = true;
        if (!this.tty) {
          this.line(`… ${n}. ${title}: ${message}`);
          return;
        }
        let frame = 0;
        // One terminal row at most: a wrapped line would not be erased by `\r` + clear-line.
        const room = Math.max(10, (this.out.columns ?? 80) - `x ${n}. ${title}: `.length - 1);
        const text = message.length > room ? `${message.slice(0, room - 1)}…` : message;
        const draw = (): void => {
          this.out.write(`\r\x1b[2K${this.cyan(SPINNER[frame % SPINNER.length]!)} ${n}. ${title}: ${this.dim(text)}`);
          frame++;
        };
        draw();
        timer = setInterval(draw, SPIN_MS);
      },
      stop: () => {
        if (timer === undefined) return;
        clearInterval(timer);
        timer = undefined;
        this.out.write('\r\x1b[2K');
      },
    };
  }
}

/** `12 ms`, `1.4 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
