// CONTRACT STUB (owned by the core-node helper): replace bodies, keep the exported names and shapes.
/** @public */
export interface WriteFileOptions {
  /** File mode, default 0o600. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Create missing parent directories (mode `dirMode`, default 0o755). Default true. */
  mkdir?: boolean;
  dirMode?: number;
}
/** Writes a temp file in the same directory, fsyncs it, renames it over `path`, fsyncs the directory. @public */
export declare function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options?: WriteFileOptions,
): Promise<void>;
/** @public */
export interface KeyCertPair {
  keyPath: string;
  certPath: string;
  keyPem: string;
  certPem: string;
  /** Default 0o400 (siad's). */
  keyMode?: number;
  /** Default 0o444 (siad's). */
  certMode?: number;
  uid?: number;
  gid?: number;
}
/** Writes a key + certificate so that a crash at any instant leaves the complete old pair or the complete new pair. @public */
export declare function writeKeyCertPair(pair: KeyCertPair): Promise<void>;
/** Reads a pair written by writeKeyCertPair (or plain files); undefined when either file is missing. @public */
export declare function readKeyCertPair(paths: {
  keyPath: string;
  certPath: string;
}): Promise<{ keyPem: string; certPem: string } | undefined>;
