// For module-graph.test.ts: imports the browser-safe entry and reads a CSR, the first use that loads the @peculiar
// stack. Fails (a non-zero exit, so the probe fails) if the names read are not the fixture's.
import { readFileSync } from 'node:fs';
import { describeCsr } from '../../src/index.js';

const csr = readFileSync(new URL('../fixtures/athenz-csr/zts/athenz.instanceid.uri.csr', import.meta.url), 'utf8');
const names = await describeCsr(csr);
if (names.commonNames[0] !== 'athenz.api') throw new Error(`read ${JSON.stringify(names.commonNames)}`);
