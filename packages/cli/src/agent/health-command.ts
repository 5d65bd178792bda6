/**
 * `ecs-identity agent health`: the ECS container health check. It asks the agent's health endpoint, or reads its
 * status file, and exits 0 when the agent is ready (or, with `-live`, merely alive) and 1 otherwise, printing one
 * JSON line with the reasons.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { createHttpClient, IdentityError } from '@ecs-identity/core';
import type { CommandContext } from '../command.js';
import { errorCode, errorMessage } from '../error-line.js';
import { UsageError } from '../flags.js';
import { printLine } from '../output.js';
import { loadAgentConfig } from './config.js';
import { HEALTH_HOST } from './health.js';
import { type AgentStatus, readiness } from './status.js';

/** A status file older than this many heartbeats belongs to an agent that is gone or stuck. */
const STALE_HEARTBEATS = 3;

interface Verdict {
  ok: boolean;
  reasons: string[];
}

async function fromEndpoint(base: string, live: boolean, timeoutMs: number): Promise<Verdict> {
  const url = `${base.replace(/\/+$/, '')}/health/${live ? 'live' : 'ready'}`;
  const http = createHttpClient({ timeoutMs });
  try {
    const res = await http.request({ url, acceptStatus: (s) => s === 200 || s === 503 });
    const doc = res.json<{ reasons?: unknown }>();
    const reasons = Array.isArray(doc.reasons) ? doc.reasons.map(String) : [];
    return {
      ok: res.status === 200,
      reasons: res.status === 200 ? [] : reasons.length ? reasons : [`${url} answered ${res.status}`],
    };
  } catch (e) {
    return { ok: false, reasons: [`${url}: ${errorCode(e)}: ${errorMessage(e)}`] };
  }
}

async function fromStatusFile(path: string, live: boolean, nowMs: number): Promise<Verdict> {
  let status: AgentStatus;
  try {
    status = JSON.parse(await readFile(path, 'utf8')) as AgentStatus;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return {
      ok: false,
      reasons: [`cannot read the status file ${path} (${typeof code === 'string' ? code : 'not JSON'})`],
    };
  }
  const age = nowMs - Date.parse(status.updatedAt);
  const maxAge = STALE_HEARTBEATS * (status.heartbeatSeconds ?? 30) * 1000;
  if (!(age <= maxAge)) {
    return {
      ok: false,
      reasons: [`the status file ${path} was last written at ${status.updatedAt}: the agent is not running`],
    };
  }
  if (live)
    return { ok: status.phase !== 'stopping', reasons: status.phase === 'stopping' ? ['the agent is stopping'] : [] };
  const verdict = readiness(status, nowMs);
  return { ok: verdict.ready, reasons: verdict.reasons };
}

/** `ecs-identity agent health`. @internal */
export async function healthCommand(ctx: CommandContext): Promise<number> {
  const { values } = ctx;
  const given = ['config', 'url', 'status-file'].filter((k) => typeof values[k] === 'string' && values[k] !== '');
  if (given.length !== 1) {
    throw new UsageError('give one of -config, -url or -status-file (where the agent reports its health)');
  }
  const live = values.live === true;
  const timeoutMs = values['timeout-ms'] as number;
  let verdict: Verdict;
  if (values.url) verdict = await fromEndpoint(values.url as string, live, timeoutMs);
  else if (values['status-file']) verdict = await fromStatusFile(values['status-file'] as string, live, Date.now());
  else {
    const { config } = await loadAgentConfig(values.config as string);
    if (config.health?.port !== undefined) {
      verdict = await fromEndpoint(`http://${HEALTH_HOST}:${config.health.port}`, live, timeoutMs);
    } else if (config.health?.statusFile) {
      verdict = await fromStatusFile(config.health.statusFile, live, Date.now());
    } else {
      throw new IdentityError('INVALID_CONFIG', `${values.config}: health has neither port nor statusFile`);
    }
  }
  printLine(ctx.io, { [live ? 'live' : 'ready']: verdict.ok, ...(verdict.ok ? {} : { reasons: verdict.reasons }) });
  return verdict.ok ? 0 : 1;
}
