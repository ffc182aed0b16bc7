import { Link, useLocation } from 'react-router-dom';

export function NotFound() {
  const { pathname } = useLocation();
  return (
    <section>
      <h1>Page not found</h1>
      <p>There is no page at <code>{pathname}</code>. It may have been a link to something deleted, or a typo.</p>
      <p><Link to="/">Go to the overview</Link></p>
    </section>
  );
}
