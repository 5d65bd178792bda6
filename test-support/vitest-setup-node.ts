// Node test workers: install the loopback-only network guard here and in every child process tests spawn.
import { fileURLToPath } from 'node:url';
import './network-guard.mjs';

const guard = fileURLToPath(new URL('./network-guard.mjs', import.meta.url));
const flag = `--import=${guard}`;
if (!(process.env.NODE_OPTIONS ?? '').includes(flag)) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${flag}`.trim();
}
