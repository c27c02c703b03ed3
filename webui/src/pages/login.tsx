// Login with a password or an API token (the same credentials as TAXII). The server answers
// unknown users and wrong passwords alike; its error object is shown as it comes.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Session } from "../api";
import { ErrorBox } from "../ui";

const REASONS: Record<string, string> = {
  expired: "Your session expired. Please log in again.",
  "signed-out": "You are logged out.",
};

export function LoginPage({ reason, onLogin }: { reason: string; onLogin: (s: Session) => void }) {
  const [mode, setMode] = useState<"password" | "token">("password");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);

  useEffect(() => first.current?.focus(), [mode]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await api.login(mode === "password" ? { user, password } : { token });
      onLogin(s);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <main id="main" class="login">
      <form class="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          <span class="brand">ctihub</span> console
        </h1>
        {REASONS[reason] && !error && (
          <p class={reason === "expired" ? "notice warn" : "notice"} role="status" id="login-reason">
            {REASONS[reason]}
          </p>
        )}
        <div class="tabs" role="tablist" aria-label="How to log in">
          <button
            type="button"
            role="tab"
            aria-selected={mode === "password"}
            class={mode === "password" ? "tab active" : "tab"}
            onClick={() => setMode("password")}
          >
            Password
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === "token"}
            class={mode === "token" ? "tab active" : "tab"}
            onClick={() => setMode("token")}
          >
            API token
          </button>
        </div>
        {mode === "password" ? (
          <>
            <label for="login-user">User</label>
            <input
              id="login-user"
              ref={first}
              name="username"
              autocomplete="username"
              required
              value={user}
              onInput={(e) => setUser((e.target as HTMLInputElement).value)}
            />
            <label for="login-password">Password</label>
            <input
              id="login-password"
              type="password"
              name="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            />
          </>
        ) : (
          <>
            <label for="login-token">API token</label>
            <input
              id="login-token"
              ref={first}
              type="password"
              autocomplete="off"
              required
              value={token}
              onInput={(e) => setToken((e.target as HTMLInputElement).value)}
            />
            <p class="muted small">A token made with <code>ctihub token create --user NAME</code>.</p>
          </>
        )}
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy} id="login-submit">
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </main>
  );
}
