export interface BrowserBundle {
  code: string;
  bytes: number;
  gzipBytes: number;
  inputs: string[];
}
export function bundleForBrowser(options: {
  contents: string;
  resolveDir: string;
  format?: 'esm' | 'iife';
  globalName?: string;
  minify?: boolean;
}): Promise<BrowserBundle>;
export function packageOf(input: string): string | undefined;
export const NODE_ONLY_PACKAGES: ReadonlySet<string>;
export function entriesOf(manifest: { name: string; exports?: Record<string, unknown> }): {
  specifier: string;
  browserSafe: boolean;
}[];
