/** Loads one API resource for a page: its value, its error, and a way to load it again. */
import { useCallback, useEffect, useState } from "preact/hooks";

export interface Resource<T> {
  value: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload(): Promise<void>;
}

export function useResource<T>(load: () => Promise<T>, deps: unknown[]): Resource<T> {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setValue(await load());
      setError(undefined);
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setLoading(false);
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { value, error, loading, reload };
}
