/** This package's version (kept equal to package.json by a test). @public */
export const VERSION = '0.1.0';

/** The User-Agent sent to ZTS, in the `SIA-<agent> <version>` form ZTS logs show for siad. @public */
export const USER_AGENT = `SIA-ecs-identity ${VERSION}`;
