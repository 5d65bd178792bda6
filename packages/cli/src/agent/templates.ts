/**
 * Templates: Handlebars in strict mode (a name that resolves to nothing is an error, not an empty string), without
 * HTML escaping (the outputs are configuration files, not pages), limited to the built-in block helpers (`if`,
 * `unless`, `each`, `with`, `lookup`; `log` is off, since it would print values to the console). A template is
 * rendered, compared with what its destination holds, and only a change is written (atomically, with its mode and
 * owner) and followed by its command or signal.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { IdentityError, type Logger } from '@ecs-identity/core';
import { writeFileAtomic } from '@ecs-identity/core/node';
import Handlebars from 'handlebars';
import { oneLine } from '../error-line.js';
import type { LoadedTemplate } from './config.js';
import { runCommand, signalProcess } from './hooks.js';
import { buildView, type ViewSources } from './view.js';

// An environment of our own: no helper or partial registered by anything else in the process reaches it.
const engine = Handlebars.create();
engine.unregisterHelper('log');
const OPTIONS = { strict: true, noEscape: true, knownHelpersOnly: true, knownHelpers: { log: false } } as const;

/** A parsed template. @internal */
export interface CompiledTemplate {
  /** Renders against `view`. @throws IdentityError `INVALID_CONFIG` naming what the template asked for in vain */
  render(view: object): string;
}

/**
 * Parses and compiles a template now, so a syntax error or an unknown helper stops the agent before it does anything.
 * @throws IdentityError `INVALID_CONFIG` with `where` and the parser's message
 * @internal
 */
export function compileTemplate(text: string, where: string): CompiledTemplate {
  let render: Handlebars.TemplateDelegate;
  try {
    engine.precompile(text, OPTIONS);
    render = engine.compile(text, OPTIONS);
  } catch (e) {
    throw new IdentityError('INVALID_CONFIG', `${where}: ${oneLine((e as Error).message)}`, { cause: e });
  }
  return {
    render(view) {
      try {
        return render(view);
      } catch (e) {
        // Handlebars names the missing field and its line ("x" not defined in [object Object] - 3:10), never a value.
        throw new IdentityError('INVALID_CONFIG', `${where}: ${oneLine((e as Error).message)}`, { cause: e });
      }
    },
  };
}

/** What one render did. @internal */
export interface RenderOutcome {
  /** The destination got new content. */
  readonly written: boolean;
  /** The command ran (and exited 0). */
  readonly commandRan?: boolean;
  /** The process was signalled; false when there was no PID file yet (nothing to tell). */
  readonly signalled?: boolean;
}

/** A template and what its last render read and wrote. @internal */
export class TemplateState {
  /** The credential keys the last render read; undefined before the first render. */
  used: ReadonlySet<string> | undefined;
  private last: string | undefined;

  constructor(readonly spec: LoadedTemplate) {}

  /** True when a change of the credential `key` affects this template. */
  uses(key: string): boolean {
    return this.used === undefined || this.used.has(key);
  }

  /**
   * Renders in memory and notes what the render read; nothing is written.
   * @throws IdentityError `INVALID_CONFIG` naming what the template asked for in vain
   */
  prepare(sources: ViewSources): string {
    const used = new Set<string>();
    const content = this.spec.template.render(buildView(sources, used));
    this.used = used;
    return content;
  }

  /**
   * Writes `content` and runs the hook, only when it differs from what the destination holds. A failed hook leaves the
   * new file in place (it is what the credentials say) and throws.
   * @throws IdentityError `FILE_IO` (write), `HOOK_FAILED` (command or signal)
   */
  async write(
    content: string,
    context: { env: Readonly<Record<string, string | undefined>>; logger: Logger },
  ): Promise<RenderOutcome> {
    this.last ??= await readFile(this.spec.destination, 'utf8').catch(() => undefined);
    if (content === this.last) return { written: false };
    await writeFileAtomic(this.spec.destination, content, {
      mode: this.spec.mode,
      ...(this.spec.uid === undefined ? {} : { uid: this.spec.uid }),
      ...(this.spec.gid === undefined ? {} : { gid: this.spec.gid }),
    });
    this.last = content;
    const what = `template ${this.spec.name}`;
    if (this.spec.command) {
      await runCommand(this.spec.command, {
        timeoutMs: this.spec.commandTimeoutMs,
        env: context.env,
        logger: context.logger,
        what: `${what} command`,
      });
    }
    const signalled = this.spec.signal
      ? await signalProcess(this.spec.signal.pidFile, this.spec.signal.signal, `${what} signal`)
      : undefined;
    return {
      written: true,
      ...(this.spec.command ? { commandRan: true } : {}),
      ...(signalled === undefined ? {} : { signalled }),
    };
  }
}
