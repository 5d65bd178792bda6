/**
 * A module (or anything) loaded on first use, once: how the SDK keeps heavy dependencies (the X.509 stack, jose, the
 * SigV4 signer, the XML parser) off the import path of the packages that need them on one path only.
 * @packageDocumentation
 */

/**
 * A function that starts `load` on its first call and hands every later call the same promise. A failed load is
 * not remembered: the next call tries again (a transient failure, e.g. a chunk a browser could not fetch).
 * @example
 * ```ts
 * const loadJose = loadOnce(() => import('jose'));
 * const { jwtVerify } = await loadJose();
 * ```
 * @internal
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    if (loading === undefined) {
      const started = load();
      loading = started;
      started.catch(() => {
        if (loading === started) loading = undefined;
      });
    }
    return loading;
  };
}
