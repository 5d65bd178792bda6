#!/usr/bin/env node
// The `ecs-identity` binary. Sets the exit status rather than calling process.exit(), so stdout is flushed first;
// every timer the SDK leaves is unref'd and every provider is closed, so the process then ends by itself.
import { main } from './index.js';
import { foldProcessWarnings } from './node-io.js';

foldProcessWarnings('ecs-identity', (line) => process.stderr.write(line));

process.exitCode = await main();
