// Preloaded into a child process with `--import`: when the process exits, writes the Node-internal modules it loaded
// whose name contains MODULE_PROBE_MATCH to the file MODULE_PROBE_OUT, one per line (nothing: an empty file).
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const match = process.env.MODULE_PROBE_MATCH ?? '';
  const loaded = process.moduleLoadList.filter((m) => m.includes(match));
  writeFileSync(process.env.MODULE_PROBE_OUT ?? '', loaded.join('\n'));
});
