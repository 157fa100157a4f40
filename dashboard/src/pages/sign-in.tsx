import { useState } from "preact/hooks";
import { signIn } from "../api/session";
import { ErrorNotice } from "../components/notices";
import { useAction } from "../components/use-action";

export function SignIn() {
  const [identifier, setIdentifier] = useState("");
  const [password, setPassword] = useState("");
  const { error, busy, run } = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    await run(() => signIn(identifier.trim(), password));
  };
  return (
    <main id="main" class="signin">
      <h1>IPA Platform</h1>
      <form class="form card" onSubmit={submit}>
        <h2>Sign in</h2>
        <ErrorNotice error={error} />
        <label for="identifier">Email or username</label>
        <input
          id="identifier"
          name="username"
          autocomplete="username"
          value={identifier}
          onInput={(e) => setIdentifier(e.currentTarget.value)}
          required
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          required
        />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
