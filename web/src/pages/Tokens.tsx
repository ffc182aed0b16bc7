// API tokens (admin only): create one (shown once), list, revoke.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { del, enc, get, post } from '../api';
import { ErrorLine, Field } from '../ui/Field';
import { DangerButton, Head } from '../ui/Table';

interface TokenRow { id: string; name: string; role: string; app?: string | null; expiresAt?: number | null }

export default function Tokens() {
  const client = useQueryClient();
  const list = useQuery({ queryKey: ['tokens'], queryFn: () => get<{ tokens: TokenRow[] }>('/tokens') });
  const [name, setName] = useState('');
  const [role, setRole] = useState('user');
  const [shown, setShown] = useState<string>();
  const refresh = () => client.invalidateQueries({ queryKey: ['tokens'] });
  const create = useMutation({ mutationFn: () => post<{ token: string }>('/tokens', { name, role }), onSuccess: (r) => { setShown(r.token); setName(''); refresh(); } });
  const revoke = useMutation({ mutationFn: (id: string) => del(`/tokens/${enc(id)}`), onSuccess: refresh });
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  return (
    <>
      <h1>Tokens</h1>
      <form className="inline" onSubmit={submit} aria-label="New token">
        <Field label="Token name">{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} required />}</Field>
        <Field label="Role">{(id) => <select id={id} value={role} onChange={(e) => setRole(e.target.value)}>{['user', 'admin', 'agent'].map((r) => <option key={r}>{r}</option>)}</select>}</Field>
        <button type="submit" disabled={create.isPending}>Create token</button>
      </form>
      <ErrorLine error={create.error ?? revoke.error ?? list.error} />
      {shown && <div className="panel" role="status"><p>Copy it now: it is not shown again.</p><code className="token">{shown}</code></div>}
      {list.data && (
        <div className="scroll">
          <table>
            <Head cols={['Name', 'Role', 'Id']} actions />
            <tbody>
              {list.data.tokens.map((t) => (
                <tr key={t.id}><td>{t.name}</td><td>{t.role}{t.app ? ` (app ${t.app})` : ''}</td><td><code>{t.id}</code></td>
                  <td><DangerButton label="Revoke" what={`token ${t.name}`} question={`Revoke "${t.name}"?`} onConfirm={() => revoke.mutate(t.id)} /></td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
