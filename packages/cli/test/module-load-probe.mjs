// Preloaded into a child process with `--import`: when the process exits, writes the Node-internal modules it loaded
// whose name matches MODULE_PROBE_MATCH (a regular expression) to the file MODULE_PROBE_OUT, one per line (nothing: an
// empty file).
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const match = new RegExp(process.env.MODULE_PROBE_MATCH ?? '');
  const loaded = process.moduleLoadList.filter((m) => match.test(m));
  writeFileSync(process.env.MODULE_PROBE_OUT ?? '', loaded.join('\n'));
});
