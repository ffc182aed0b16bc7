import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App } from './App';
import { get } from './api';
import './styles.css';

const client = new QueryClient({
  defaultOptions: {
    // Live events say when data changed; nothing polls. A 4xx is an answer, not a reason to retry.
    queries: { staleTime: 30_000, refetchOnWindowFocus: false, retry: (n, e) => n < 2 && !((e as { status?: number }).status! < 500) },
  },
});

// The overview is the first page most loads show: ask for it alongside the session instead of after it
// (a 401 here is simply refetched once signed in).
if (location.pathname === '/') void client.prefetchQuery({ queryKey: ['overview'], queryFn: () => get('/overview') });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
