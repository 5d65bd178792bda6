// @peculiar/x509's dependency injection (tsyringe) needs the `Reflect.getMetadata` global before it loads. Loaded with
// require() rather than `import 'reflect-metadata'`, so that the published declarations carry no import of it (which
// would add its global types to every consumer's type check); the modules that use @peculiar/x509 import this one
// first.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('reflect-metadata');
