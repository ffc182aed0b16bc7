// Paste a token once; the server answers with an HttpOnly session cookie, and the token is not kept here.
import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { post, errorText } from '../api';
import type { Session } from '../types';
import { Field } from '../ui/Field';

export function SignIn() {
  const client = useQueryClient();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const me = await post<Session>('/session', { token: token.trim() });
      setToken('');
      client.setQueryData(['session'], me);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin" id="main">
      <h1>Flotilla</h1>
      <p>Sign in with an API token. Make one with <code>flotilla token create NAME --role user</code>, or use the admin
        token that <code>flotilla up</code> printed. It is sent once; the browser then keeps a session cookie.</p>
      <form onSubmit={submit}>
        <Field label="Token" error={error}>
          {(id, d) => <input id={id} aria-describedby={d} type="password" autoComplete="off" required value={token}
            onChange={(e) => setToken(e.target.value)} />}
        </Field>
        <button type="submit" disabled={busy || !token.trim()}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
