/**
 * Something a person does against the API (save, approve, delete): whether it is under way, and
 * the error to show when it failed, cleared by the next success.
 */
import { useState } from "preact/hooks";

export function useAction() {
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    try {
      await action();
      setError(undefined);
      return true;
    } catch (caught) {
      setError(caught as Error);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run, setError };
}
