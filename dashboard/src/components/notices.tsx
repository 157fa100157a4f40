/** Status badges, errors and empty states, shared by every page. */
import type { ComponentChildren } from "preact";
import { ApiError } from "../api/client";

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{status}</span>;
}

export function ErrorNotice({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const details = error instanceof ApiError ? error.details : [];
  return (
    <div class="notice notice-error" role="alert">
      <strong>{error instanceof ApiError ? `${error.status} ${error.code}` : "Error"}:</strong> {error.message}
      {details.length > 0 && (
        <ul>
          {details.map((detail) => (
            <li key={detail.path}>
              <code>{detail.path}</code>: {detail.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function Loading() {
  return (
    <p class="loading" aria-live="polite">
      Loading…
    </p>
  );
}
