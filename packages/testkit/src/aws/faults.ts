import type { ServerResponse } from 'node:http';

/**
 * A fault to inject into a fake server's answers (shared by the AWS and Consul fakes).
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
  /** Destroy the connection without answering. */
  reset?: boolean;
  /** Answer with this status instead of the real answer (the body defaults to a plausible server error). */
  status?: number;
  /** The body to send with `status`. */
  body?: string;
  /** Override the answer's Content-Type (with or without `status`). */
  contentType?: string;
  /** Send the headers and half of the body, then cut the connection. */
  truncate?: boolean;
  /** Apply to this many matching requests, then clear. Default: until replaced or cleared. */
  times?: number;
}

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

/** Writes an answer, honouring a fault's `truncate` (half the body, then a cut connection). */
export function sendBody(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
  fault?: Fault,
): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { ...headers, 'Content-Length': String(bytes.length) });
  if (fault?.truncate) {
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
    res.socket?.destroy();
    return;
  }
  res.end(bytes);
}
