// Types of cold-start-child.mjs (plain JavaScript so that its processes run without a TypeScript loader).
import type { KeyType } from '@ecs-identity/athenz-zts';

/** Where the emulators are and the names they know (handed to the child processes as JSON). */
export interface Emulated {
  env: Readonly<Record<string, string>>;
  awsUrl: string;
  ztsUrl: string;
  caPem: string;
  region: string;
  taskId: string;
  serviceRoleArn: string;
  provider: string;
}

/** What one child process measures: a whole start, or one part of the floor. */
export type Measure = 'start' | 'keygen+csr' | 'attestation' | 'register';
export declare const MEASURES: readonly Measure[];

/** The settings of a warm child's rounds. */
export interface WarmRounds {
  rounds: number;
  warmup: number;
  registerEvery: number;
}

/** A measurement: wall time, and the part of it the main thread was busy (event loop utilization), in ms. */
export interface Timed {
  ms: number;
  busy: number;
}

/** One cold start: a provider with no state, from nothing to the first certificate. */
export declare function timedColdStart(emu: Emulated, keyType: KeyType): Promise<Timed>;
