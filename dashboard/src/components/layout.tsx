/** The frame of every signed-in page: a skip link, the navigation the role may use, the main area. */
import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { can, me, signOut } from "../api/session";

const LINKS: Array<{ href: string; label: string; permission?: string }> = [
  { href: "/executions", label: "Executions", permission: "executions:read" },
  { href: "/approvals", label: "Approvals", permission: "executions:approve" },
  { href: "/workflows", label: "Workflows", permission: "workflows:read" },
  { href: "/agents", label: "Agents", permission: "agents:read" },
  { href: "/secrets", label: "Secrets", permission: "secrets:manage" },
  { href: "/backups", label: "Backups", permission: "backups:manage" },
  { href: "/notifications", label: "Notifications", permission: "workflows:update" },
  { href: "/audit", label: "Audit", permission: "audit:read" },
  { href: "/users", label: "Users", permission: "users:manage" },
  { href: "/tokens", label: "API tokens" },
];

export function Layout({ children }: { children: ComponentChildren }) {
  const { path } = useLocation();
  const user = me.value;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a href="/executions" class="brand">
          IPA Platform
        </a>
        <nav aria-label="Main">
          <ul>
            {LINKS.filter((link) => !link.permission || can(link.permission)).map((link) => (
              <li key={link.href}>
                <a href={link.href} aria-current={path.startsWith(link.href) ? "page" : undefined}>
                  {link.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="whoami">
          <span>
            {user?.username} <small>({user?.roles.join(", ")})</small>
          </span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
