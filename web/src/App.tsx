// The shell: who is signed in, the navigation, the live-stream banner and the pages.
import { lazy, Suspense, useEffect } from 'react';
import { NavLink, Route, Routes, useNavigate } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, del, get, onUnauthorized } from './api';
import type { Session } from './types';
import { useLive } from './live';
import { SignIn } from './pages/SignIn';
import { Overview } from './pages/Overview';
import { NotFound } from './pages/NotFound';
import { SessionContext } from './session';

// Pages past the overview load when first opened, so the first load stays small.
const Queues = lazy(() => import('./pages/Queues'));
const Tasks = lazy(() => import('./pages/Tasks'));
const TaskPage = lazy(() => import('./pages/TaskPage'));
const Apps = lazy(() => import('./pages/Apps'));
const AppEditor = lazy(() => import('./pages/AppEditor'));
const AppWatch = lazy(() => import('./pages/AppWatch'));
const K8s = lazy(() => import('./pages/K8s'));
const Secrets = lazy(() => import('./pages/Secrets'));
const Tokens = lazy(() => import('./pages/Tokens'));

export function App() {
  const client = useQueryClient();
  const session = useQuery({
    queryKey: ['session'],
    queryFn: () => get<Session>('/session').catch((e) => { if (e instanceof ApiError && e.status === 401) return null; throw e; }),
    staleTime: Infinity,
  });
  useEffect(() => onUnauthorized(() => client.setQueryData(['session'], null)), [client]);
  const live = useLive(client, !!session.data);

  if (session.isPending) return <p className="loading" role="status">Loading…</p>;
  if (session.isError) return <main className="page"><h1>Flotilla</h1><p role="alert">Cannot reach the control plane: {String(session.error.message)}. Reload to try again.</p></main>;
  if (!session.data) return <SignIn />;
  const me = session.data;
  return (
    <SessionContext.Provider value={me}>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <span className="brand">Flotilla</span>
        <nav aria-label="Main">
          <NavLink to="/" end>Overview</NavLink>
          <NavLink to="/queues">Queues</NavLink>
          <NavLink to="/tasks">Tasks</NavLink>
          <NavLink to="/apps">Autoscalers</NavLink>
          <NavLink to="/k8s">Kubernetes</NavLink>
          {me.role === 'admin' && <NavLink to="/secrets">Secrets</NavLink>}
          {me.role === 'admin' && <NavLink to="/tokens">Tokens</NavLink>}
        </nav>
        <SignOut name={me.name} role={me.role} />
      </header>
      {live === 'reconnecting' && <div className="banner" role="status">Live updates lost: reconnecting…</div>}
      <main id="main" className="page" tabIndex={-1}>
        <Suspense fallback={<p role="status">Loading…</p>}>
          <Routes>
            <Route path="/" element={<Overview />} />
            <Route path="/queues" element={<Queues />} />
            <Route path="/tasks" element={<Tasks />} />
            <Route path="/tasks/:id" element={<TaskPage />} />
            <Route path="/apps" element={<Apps />} />
            <Route path="/apps/new" element={<AppEditor />} />
            <Route path="/apps/:name/edit" element={<AppEditor />} />
            <Route path="/apps/:name" element={<AppWatch />} />
            <Route path="/k8s" element={<K8s />} />
            {me.role === 'admin' && <Route path="/secrets" element={<Secrets />} />}
            {me.role === 'admin' && <Route path="/tokens" element={<Tokens />} />}
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
    </SessionContext.Provider>
  );
}

function SignOut({ name, role }: Session) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const out = async () => {
    await del('/session').catch(() => undefined);
    // Forget what was read as this person; the session query itself stays (the shell observes it) and turns null.
    client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'session' });
    client.setQueryData(['session'], null);
    navigate('/');
  };
  return (
    <div className="who">
      <span>{name} <small>({role})</small></span>
      <button type="button" onClick={out}>Sign out</button>
    </div>
  );
}
