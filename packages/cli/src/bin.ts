#!/usr/bin/env node
// CONTRACT STUB (owned by the issue-6 helper).
console.error('ecs-identity: the CLI is not written yet (issue 6)');
process.exit(1);
