// Written by scripts/write-version.mjs from package.json (the build runs it; test/versions.test.ts checks it).
/** This package's version. @internal */
export const VERSION = '0.1.0';
/** The `User-Agent` every request of the SDK carries unless it sets its own. @internal */
export const USER_AGENT = `ecs-identity/${VERSION}`;
