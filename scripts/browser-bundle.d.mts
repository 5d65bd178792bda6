export interface BrowserBundle {
  code: string;
  bytes: number;
  gzipBytes: number;
  inputs: string[];
  /** With `splitting`: every output file, their total size minified and gzipped (each file on its own). */
  chunks?: number;
  totalBytes?: number;
  totalGzipBytes?: number;
}
export function bundleForBrowser(options: {
  contents: string;
  resolveDir: string;
  format?: 'esm' | 'iife';
  globalName?: string;
  minify?: boolean;
  /** ESM only: split at dynamic imports; `bytes` / `gzipBytes` are then what loads up front. */
  splitting?: boolean;
}): Promise<BrowserBundle>;
export function packageOf(input: string): string | undefined;
export const NODE_ONLY_PACKAGES: ReadonlySet<string>;
export function entriesOf(manifest: { name: string; exports?: Record<string, unknown> }): {
  specifier: string;
  browserSafe: boolean;
}[];
