/**
 * Reading the agent's configuration file: JSON, checked against the published schema, then the rules a schema cannot
 * say (one template source, no file written by two writers), relative paths resolved against the file's directory,
 * and every template read and parsed. All of it happens before the first network call, so a bad file changes
 * nothing.
 * @packageDocumentation
 */
import { dirname, resolve } from 'node:path';
import { IdentityError } from '@ecs-identity/core';
import { Value } from '@sinclair/typebox/value';
import { readTextFile } from '../read-file.js';
import { type AgentConfig, agentConfigSchema, type FileSinkConfig, type TemplateConfig } from './config-schema.js';
import { type CompiledTemplate, compileTemplate } from './templates.js';

/** A template ready to render. @internal */
export interface LoadedTemplate {
  readonly name: string;
  readonly destination: string;
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly command?: readonly string[];
  readonly commandTimeoutMs: number;
  readonly signal?: { readonly pidFile: string; readonly signal: NodeJS.Signals };
  readonly template: CompiledTemplate;
}

/** The configuration with every path absolute, and its templates compiled. @internal */
export interface LoadedConfig {
  readonly file: string;
  readonly config: AgentConfig;
  readonly templates: readonly LoadedTemplate[];
}

const MAX_ERRORS = 3;

function invalid(file: string, message: string): IdentityError {
  return new IdentityError('INVALID_CONFIG', `${file}: ${message}`);
}

/** An octal mode string (`"0640"`) as a number; the schema has checked its form. @internal */
export function parseMode(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : Number.parseInt(text, 8);
}

/** The schema's verdict as one message: the first few problems, each with its JSON pointer. */
function schemaErrors(value: unknown): string | undefined {
  // The first problem at each place (a missing string is also "not a string": one line is enough).
  const problems = new Map<string, string>();
  for (const error of Value.Errors(agentConfigSchema, value)) {
    const where = error.path === '' ? '(top level)' : error.path;
    if (!problems.has(where)) problems.set(where, `${where}: ${error.message.toLowerCase()}`);
    if (problems.size === MAX_ERRORS) break;
  }
  return problems.size === 0 ? undefined : [...problems.values()].join('; ');
}

/** Makes every path in the configuration absolute (relative ones are relative to the configuration file). */
function resolvePaths(config: AgentConfig, dir: string): AgentConfig {
  const abs = (p: string) => resolve(dir, p);
  const opt = (p: string | undefined) => (p === undefined ? undefined : abs(p));
  const sinks = (list: FileSinkConfig[] | undefined) => list?.map((s) => ({ ...s, path: abs(s.path) }));
  // The properties left undefined are removed: the configuration's optional fields are absent, never undefined.
  const defined = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
      [K in keyof T]: Exclude<T[K], undefined>;
    };
  const { consul, athenz, templates, health } = config;
  return defined({
    ...config,
    consul:
      consul &&
      defined({
        ...consul,
        caFile: opt(consul.caFile),
        clientCertFile: opt(consul.clientCertFile),
        clientKeyFile: opt(consul.clientKeyFile),
        logins: Object.fromEntries(
          Object.entries(consul.logins).map(([name, login]) => [
            name,
            defined({ ...login, sinks: sinks(login.sinks) }),
          ]),
        ),
      }),
    athenz:
      athenz &&
      defined({
        ...athenz,
        caFile: opt(athenz.caFile),
        sia:
          athenz.sia &&
          defined({
            ...athenz.sia,
            dir: opt(athenz.sia.dir),
            keyDir: opt(athenz.sia.keyDir),
            certDir: opt(athenz.sia.certDir),
            tokenDir: opt(athenz.sia.tokenDir),
          }),
        identity:
          athenz.identity &&
          defined({
            sinks: athenz.identity.sinks?.map((s) =>
              defined({ ...s, keyPath: abs(s.keyPath), certPath: abs(s.certPath), chainPath: opt(s.chainPath) }),
            ),
          }),
        roleCertificates:
          athenz.roleCertificates &&
          Object.fromEntries(
            Object.entries(athenz.roleCertificates).map(([n, r]) => [n, defined({ ...r, sinks: sinks(r.sinks) })]),
          ),
        accessTokens:
          athenz.accessTokens &&
          Object.fromEntries(
            Object.entries(athenz.accessTokens).map(([n, t]) => [n, defined({ ...t, sinks: sinks(t.sinks) })]),
          ),
      }),
    templates: templates?.map((t) =>
      defined({
        ...t,
        source: opt(t.source),
        destination: abs(t.destination),
        signal: t.signal && { ...t.signal, pidFile: abs(t.signal.pidFile) },
      }),
    ),
    health: health && defined({ ...health, statusFile: opt(health.statusFile) }),
  });
}

/** Every file the agent writes, with who writes it: two writers of one file would undo each other. */
function outputs(config: AgentConfig): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, login] of Object.entries(config.consul?.logins ?? {})) {
    for (const s of login.sinks ?? []) out.push([s.path, `consul.logins.${name}.sinks`]);
  }
  const athenz = config.athenz;
  for (const [i, s] of (athenz?.identity?.sinks ?? []).entries()) {
    for (const p of [s.keyPath, s.certPath, s.chainPath]) if (p) out.push([p, `athenz.identity.sinks[${i}]`]);
  }
  for (const [name, r] of Object.entries(athenz?.roleCertificates ?? {})) {
    for (const s of r.sinks ?? []) out.push([s.path, `athenz.roleCertificates.${name}.sinks`]);
  }
  for (const [name, t] of Object.entries(athenz?.accessTokens ?? {})) {
    for (const s of t.sinks ?? []) out.push([s.path, `athenz.accessTokens.${name}.sinks`]);
  }
  for (const [i, t] of (config.templates ?? []).entries()) out.push([t.destination, `templates[${i}].destination`]);
  if (config.health?.statusFile) out.push([config.health.statusFile, 'health.statusFile']);
  return out;
}

function checkRules(file: string, config: AgentConfig): void {
  if (!config.consul && !config.athenz && (config.templates ?? []).length === 0) {
    throw invalid(file, 'nothing to do: declare consul logins, an athenz identity or templates');
  }
  const writers = new Map<string, string>();
  for (const [path, who] of outputs(config)) {
    const other = writers.get(path);
    if (other !== undefined) throw invalid(file, `${who} and ${other} both write ${path}`);
    writers.set(path, who);
  }
  const names = new Set<string>();
  for (const [i, t] of (config.templates ?? []).entries()) {
    if ((t.source === undefined) === (t.contents === undefined)) {
      throw invalid(file, `templates[${i}]: give either source (a file) or contents (the text), not both or neither`);
    }
    const name = t.name ?? t.destination;
    if (names.has(name)) throw invalid(file, `templates[${i}]: the name ${JSON.stringify(name)} is used twice`);
    names.add(name);
  }
}

async function loadTemplate(t: TemplateConfig, index: number): Promise<LoadedTemplate> {
  const name = t.name ?? t.destination;
  const text = t.source === undefined ? (t.contents ?? '') : await readTextFile(t.source, `template ${name}`);
  return {
    name,
    destination: t.destination,
    mode: parseMode(t.mode, 0o600),
    ...(t.uid === undefined ? {} : { uid: t.uid }),
    ...(t.gid === undefined ? {} : { gid: t.gid }),
    ...(t.command === undefined ? {} : { command: t.command }),
    commandTimeoutMs: (t.commandTimeoutSeconds ?? 30) * 1000,
    ...(t.signal === undefined
      ? {}
      : { signal: { pidFile: t.signal.pidFile, signal: (t.signal.signal ?? 'SIGHUP') as NodeJS.Signals } }),
    template: compileTemplate(text, `templates[${index}] (${name})`),
  };
}

/**
 * Reads, validates and prepares the configuration file.
 * @throws IdentityError `INVALID_CONFIG` naming the file and what is wrong where; `FILE_IO` when a file cannot be read
 * @internal
 */
export async function loadAgentConfig(file: string): Promise<LoadedConfig> {
  const absolute = resolve(file);
  const text = await readTextFile(absolute, 'agent configuration file');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw invalid(absolute, `not JSON (${(e as Error).message})`);
  }
  const problems = schemaErrors(parsed);
  if (problems !== undefined) throw invalid(absolute, problems);
  const config = resolvePaths(parsed as AgentConfig, dirname(absolute));
  checkRules(absolute, config);
  const templates = await Promise.all((config.templates ?? []).map(loadTemplate));
  return { file: absolute, config, templates };
}
