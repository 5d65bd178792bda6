/**
 * How the agent's state gets out: an HTTP endpoint on loopback (opt-in port) and a status file, both rewritten from
 * the {@link StatusBoard}. Nothing here carries a secret: the status holds only printable facts.
 * @packageDocumentation
 */
import { createServer, type Server } from 'node:http';
import { IdentityError, type Logger } from '@ecs-identity/core';
import { writeFileAtomic } from '@ecs-identity/core/node';
import { type AgentStatus, readiness, type StatusBoard } from './status.js';

/** The loopback address the endpoint listens on: only processes of the task (network mode awsvpc) reach it. */
export const HEALTH_HOST = '127.0.0.1';

function body(status: number, value: unknown): [number, string] {
  return [status, `${JSON.stringify(value)}\n`];
}

/** The endpoint's answer to `GET <path>` (pure, for the server and its tests). @internal */
export function healthResponse(path: string, status: AgentStatus, nowMs: number): [number, string] {
  switch (path) {
    case '/health/live':
      return body(200, { live: true, phase: status.phase });
    case '/health/ready': {
      const verdict = readiness(status, nowMs);
      return body(verdict.ready ? 200 : 503, { ...verdict, status });
    }
    case '/status':
      return body(200, status);
    default:
      return body(404, { error: 'not found: try /health/live, /health/ready or /status' });
  }
}

/**
 * Serves `/health/live`, `/health/ready` (503 when not ready) and `/status` on 127.0.0.1:`port`.
 * @throws IdentityError `INVALID_CONFIG` when the port cannot be bound (in use, not allowed)
 * @internal
 */
export async function startHealthServer(port: number, board: StatusBoard): Promise<{ close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const [code, text] =
      req.method === 'GET' || req.method === 'HEAD'
        ? healthResponse(new URL(req.url ?? '/', 'http://localhost').pathname, board.status, Date.now())
        : body(405, { error: 'only GET' });
    res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  });
  // A health check is a few bytes; nobody gets to hold a socket open.
  server.requestTimeout = 5000;
  server.headersTimeout = 5000;
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(
        new IdentityError(
          'INVALID_CONFIG',
          `health.port: cannot listen on ${HEALTH_HOST}:${port} (${(e as { code?: string }).code ?? e.message})`,
          {
            cause: e,
          },
        ),
      ),
    );
    server.listen(port, HEALTH_HOST, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Keeps `path` holding the current status: rewritten (atomically, 0644) after each change, at most one write at a
 * time (changes during a write are folded into the next one), and every `heartbeatSeconds` so a reader can tell a
 * live agent from a file left behind.
 * @internal
 */
export function keepStatusFile(
  path: string,
  board: StatusBoard,
  logger: Logger,
): { flush(): Promise<void>; stop(): void } {
  let writing: Promise<void> | undefined;
  let again = false;
  const write = (): Promise<void> => {
    if (writing) {
      again = true;
      return writing;
    }
    writing = (async () => {
      do {
        again = false;
        try {
          await writeFileAtomic(path, `${JSON.stringify(board.status, null, 2)}\n`, { mode: 0o644 });
        } catch (e) {
          logger.warn(`status file: ${(e as Error).message}`);
        }
      } while (again);
      writing = undefined;
    })();
    return writing;
  };
  board.onChange(() => void write());
  const heartbeat = setInterval(() => board.touch(), board.status.heartbeatSeconds * 1000);
  heartbeat.unref();
  void write();
  return {
    flush: async () => {
      while (writing) await writing;
    },
    stop: () => clearInterval(heartbeat),
  };
}
