/**
 * The dashboard's shell: find the session (the refresh cookie), then either the sign-in form or the
 * pages, each loaded on first visit so the first paint carries only what it shows.
 */

import { useEffect } from "preact/hooks";
import { ErrorBoundary, LocationProvider, lazy, Route, Router, useLocation } from "preact-iso";
import { me, restoreSession, sessionChecked } from "./api/session";
import { Layout } from "./components/layout";
import { Empty, Loading } from "./components/notices";
import { SignIn } from "./pages/sign-in";

const page = <K extends string>(load: () => Promise<Record<K, unknown>>, name: K) =>
  // biome-ignore lint/suspicious/noExplicitAny: preact-iso's lazy() takes any component shape
  lazy(() => load().then((module) => module[name] as any));

const Executions = page(() => import("./pages/executions"), "Executions");
const ExecutionPage = page(() => import("./pages/execution"), "ExecutionPage");
const Workflows = page(() => import("./pages/workflows"), "Workflows");
const WorkflowPage = page(() => import("./pages/workflow"), "WorkflowPage");
const Approvals = page(() => import("./pages/approvals"), "Approvals");
const Agents = page(() => import("./pages/agents"), "Agents");
const Secrets = page(() => import("./pages/secrets"), "Secrets");
const Backups = page(() => import("./pages/backups"), "Backups");
const Audit = page(() => import("./pages/audit"), "Audit");
const Users = page(() => import("./pages/users"), "Users");
const Tokens = page(() => import("./pages/tokens"), "Tokens");
const Notifications = page(() => import("./pages/notifications"), "Notifications");

function Home() {
  const { route } = useLocation();
  useEffect(() => route("/executions", true), [route]);
  return null;
}

function NotFound() {
  return (
    <Empty>
      <h1>Not found</h1>
      <p>
        Nothing lives at this address. <a href="/executions">Go to executions</a>.
      </p>
    </Empty>
  );
}

/** Moves focus to the page's main area after each navigation, as a full page load would for a screen reader. */
function focusMain() {
  document.getElementById("main")?.focus({ preventScroll: true });
}

export function App() {
  useEffect(() => void restoreSession(), []);
  if (!sessionChecked.value) return <Loading />;
  if (!me.value) return <SignIn />;
  return (
    <LocationProvider>
      <Layout>
        <ErrorBoundary>
          <Router onRouteChange={focusMain}>
            <Route path="/" component={Home} />
            <Route path="/executions" component={Executions} />
            <Route path="/executions/:id" component={ExecutionPage} />
            <Route path="/workflows" component={Workflows} />
            <Route path="/workflows/:id" component={WorkflowPage} />
            <Route path="/approvals" component={Approvals} />
            <Route path="/agents" component={Agents} />
            <Route path="/secrets" component={Secrets} />
            <Route path="/backups" component={Backups} />
            <Route path="/audit" component={Audit} />
            <Route path="/users" component={Users} />
            <Route path="/tokens" component={Tokens} />
            <Route path="/notifications" component={Notifications} />
            <Route default component={NotFound} />
          </Router>
        </ErrorBoundary>
      </Layout>
    </LocationProvider>
  );
}
