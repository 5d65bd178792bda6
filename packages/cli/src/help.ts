/**
 * Help texts: the usage line, a description and the flag table, built from the same specs the parser uses so the
 * two cannot drift apart. Pure and browser-safe.
 * @packageDocumentation
 */
import type { FlagSpec, FlagSpecs } from './flags.js';

/** The exit statuses, printed at the end of every help text. @public */
export const EXIT_CODES_HELP = 'Exit status: 0 success, 1 failure (one line on stderr names the cause), 2 usage error.';

function flagLine(name: string, spec: FlagSpec): [string, string] {
  const value =
    spec.type === 'bool'
      ? ''
      : ` ${spec.placeholder ?? (spec.type === 'int' || spec.type === 'number' ? 'N' : 'VALUE')}`;
  const notes: string[] = [];
  if (spec.type === 'list') notes.push('repeatable');
  if (spec.env && spec.env.length > 0) notes.push(`env ${spec.env.join(', ')}`);
  if (spec.default !== undefined && spec.default !== false && spec.default !== '') {
    notes.push(`default ${String(spec.default)}`);
  }
  if (spec.aliases && spec.aliases.length > 0) notes.push(`also -${spec.aliases.join(', -')}`);
  return [`-${name}${value}`, `${spec.help}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`];
}

/**
 * Renders a command's help: `Usage: <usage>`, the description, then one line per flag with its environment
 * variables and default, then the exit statuses (`exitStatus`, default {@link EXIT_CODES_HELP}).
 * @public
 */
export function renderHelp(
  usage: string,
  description: string,
  flags: FlagSpecs,
  exitStatus: string = EXIT_CODES_HELP,
): string {
  const rows = Object.entries(flags).map(([name, spec]) => flagLine(name, spec));
  const width = Math.min(34, Math.max(0, ...rows.map(([left]) => left.length)));
  const lines = [`Usage: ${usage}`, '', description.trim(), ''];
  if (rows.length > 0) {
    lines.push('Flags (also -flag=value and --flag; booleans -flag or -flag=false):');
    for (const [left, right] of rows) {
      lines.push(
        left.length > width ? `  ${left}\n  ${' '.repeat(width)}  ${right}` : `  ${left.padEnd(width)}  ${right}`,
      );
    }
    lines.push('');
  }
  lines.push(exitStatus.trim());
  return `${lines.join('\n')}\n`;
}

/** A group's help: its usage, description and the list of subcommands with their summaries. @public */
export function renderGroupHelp(
  usage: string,
  description: string,
  commands: readonly { name: string; summary: string }[],
): string {
  const width = Math.max(0, ...commands.map((c) => c.name.length));
  const lines = [`Usage: ${usage}`, '', description.trim(), '', 'Commands:'];
  for (const c of commands) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  lines.push('', 'Run a command with -h for its flags.', EXIT_CODES_HELP);
  return `${lines.join('\n')}\n`;
}
