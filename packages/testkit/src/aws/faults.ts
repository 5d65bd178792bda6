import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A fault to inject into a fake server's answers (shared by the AWS, Consul and ECS agent fakes; the fake ZTS takes
 * the same answer-shaping fields). Faults that shape the real answer (`truncate`, `resetMidBody`, `malformed`,
 * `padTo`) handle the request for real first, so the bytes cut or padded are the ones the server would have sent,
 * secrets included.
 * @public
 */
export interface Fault {
  /**
   * Which requests it applies to: a string matches the AWS `Action` (fake AWS) or the URL path (fake Consul);
   * a function decides. Default: every request.
   */
  match?: string | ((key: string) => boolean);
  /** Wait this long (real milliseconds) before answering, e.g. to trip a client timeout. */
  delayMs?: number;
  /** Accept the request and never answer it (the connection stays open until the client or the fake closes it). */
  hang?: boolean;
  /** Destroy the connection without answering. */
  reset?: boolean;
  /** Answer with this status instead of the real answer (the body defaults to a plausible server error). */
  status?: number;
  /** The body to send with `status`. */
  body?: string;
  /** A `Retry-After` header for the answer (seconds, e.g. `'3600'`, or an HTTP date). */
  retryAfter?: string;
  /** Override the answer's Content-Type (with or without `status`). */
  contentType?: string;
  /** Send the headers (the whole body's Content-Length) and half of the body, then close the connection (FIN). */
  truncate?: boolean;
  /** Send the headers and half of the body, then reset the connection (TCP RST). */
  resetMidBody?: boolean;
  /** Send the first half of the answer as a complete response (its own Content-Length): a malformed body. */
  malformed?: boolean;
  /** Pad the answer with spaces to this many bytes (Content-Length included), e.g. 10 MiB: a body too large to read. */
  padTo?: number;
  /** Apply to this many matching requests, then clear. Default: until replaced or cleared. */
  times?: number;
}

/** The answer-shaping part of a fault: what {@link sendBody} honours. @internal */
export type AnswerFault = Pick<Fault, 'retryAfter' | 'truncate' | 'resetMidBody' | 'malformed' | 'padTo'>;

/** Holds the current fault and hands it out per request, counting `times`. */
export class FaultSlot {
  #fault: Fault | undefined;
  #left = Number.POSITIVE_INFINITY;

  set(fault: Fault | undefined): void {
    this.#fault = fault;
    this.#left = fault?.times ?? Number.POSITIVE_INFINITY;
  }

  take(key: string): Fault | undefined {
    const f = this.#fault;
    if (f === undefined) return undefined;
    const m = f.match;
    if (m !== undefined && (typeof m === 'string' ? m !== key : !m(key))) return undefined;
    this.#left -= 1;
    if (this.#left <= 0) this.#fault = undefined;
    return f;
  }
}

/** Resolves after `ms` real milliseconds without keeping the process alive. */
export function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * The faults that act before any answer: waits `delayMs`; with `hang`, waits until the connection closes; with
 * `reset`, destroys the connection. Returns what happened (`'hang'` / `'reset'`: the request gets no answer), or
 * undefined to go on answering.
 * @internal
 */
export async function faultBeforeAnswer(
  req: IncomingMessage,
  fault: Pick<Fault, 'delayMs' | 'hang' | 'reset'> | undefined,
): Promise<'hang' | 'reset' | undefined> {
  if (fault?.delayMs) await realDelay(fault.delayMs);
  if (fault?.hang) {
    const socket = req.socket;
    if (!socket.destroyed) await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    return 'hang';
  }
  if (fault?.reset) {
    req.socket.destroy();
    return 'reset';
  }
  return undefined;
}

/**
 * Writes an answer, shaped by a fault: `retryAfter` adds the header; `truncate` sends half the body under the whole
 * body's Content-Length and closes the connection (FIN); `resetMidBody` does the same with a TCP reset; `malformed`
 * sends the first half as a complete answer; `padTo` pads the body with spaces.
 */
export function sendBody(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
  fault?: AnswerFault,
): void {
  let bytes = Buffer.from(body);
  if (fault?.malformed) bytes = bytes.subarray(0, Math.floor(bytes.length / 2));
  if (fault?.padTo !== undefined && fault.padTo > bytes.length) {
    bytes = Buffer.concat([bytes, Buffer.alloc(fault.padTo - bytes.length, 0x20)]);
  }
  const out: Record<string, string> = { ...headers, 'Content-Length': String(bytes.length) };
  if (fault?.retryAfter !== undefined) out['Retry-After'] = fault.retryAfter;
  res.writeHead(status, out);
  if (fault?.truncate || fault?.resetMidBody) {
    const socket = res.socket as (Socket & { resetAndDestroy?: () => void }) | null;
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => {
      if (!fault.resetMidBody) socket?.end();
      else {
        try {
          socket?.resetAndDestroy?.();
        } catch {
          // A TLS socket has no TCP handle of its own to reset: an abrupt close (no close_notify) is the nearest.
          socket?.destroy();
        }
      }
    });
    return;
  }
  res.end(bytes);
}
