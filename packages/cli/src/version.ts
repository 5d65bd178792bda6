/** This package's version (kept equal to package.json by a test). @public */
export const VERSION = '0.1.0';
