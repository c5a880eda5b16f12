// The dashboard: who is signed in, the routes, the frame around every page.
//
// Routes (real URLs, reloadable): /login, /servers, /servers/{id}/{tab}, /adapters.
import { render } from './vendor/preact.mjs';
import { useEffect } from './vendor/hooks.mjs';
import { signal, effect } from './vendor/signals.mjs';
import { html } from './html.js';
import * as api from './api.js';
import * as live from './live.js';
import { Login, ChoosePassword } from './pages/login.js';
import { ServerList } from './pages/servers.js';
import { ServerPage } from './pages/server.js';
import { AdapterList } from './pages/adapters.js';

// The signed-in user (`/auth/me`), null when signed out, undefined while unknown.
export const me = signal(undefined);
// Set when the host ended the session (revoked, expired) rather than the user signing out.
export const sessionEnded = signal(false);
export const path = signal(location.pathname);

export function navigate(to, { replace = false } = {}) {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  path.value = location.pathname;
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => { path.value = location.pathname; });

// Same-origin links navigate inside the app.
document.addEventListener('click', (event) => {
  const a = event.target.closest?.('a[href^="/"]');
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(a.getAttribute('href'));
});

// A request answered 401: back to sign-in, keeping the page to return to.
api.whenUnauthorized(() => signedOut());
// The live connection's credential was refused: asking who is signed in answers 401 (and so
// signs out) when the session was revoked or has expired.
live.whenAuthLost(async () => {
  try { await api.get('/auth/me'); } catch { /* a 401 already signed out */ }
});

function signedOut({ byUser = false } = {}) {
  if (me.value === null) return;
  sessionEnded.value = !byUser && !!me.value;
  me.value = null;
  live.stop();
  if (!location.pathname.startsWith('/login')) {
    const back = location.pathname + location.search;
    navigate(`/login?next=${encodeURIComponent(back)}`, { replace: true });
  }
}

export async function loadMe() {
  try {
    me.value = await api.get('/auth/me');
    sessionEnded.value = false;
    live.start();
  } catch (e) {
    if (e.status === 401 || me.value === undefined) signedOut();
  }
}

export async function signOut() {
  try { await api.post('/auth/logout'); } catch { /* signed out either way */ }
  signedOut({ byUser: true });
}

// Sessions last 15 minutes: renew the cookie every 5 while the tab is open.
setInterval(async () => {
  if (!me.value) return;
  try { await api.post('/auth/refresh'); } catch { /* a 401 already signed out */ }
}, 5 * 60 * 1000);

function Header() {
  const user = me.value;
  return html`
    <header class="top">
      <a class="brand" href="/servers">Garrison</a>
      <nav aria-label="Main"><a href="/servers">Servers</a> <a href="/adapters">Games</a></nav>
      <span class="spacer"></span>
      ${live.connected.value ? null : html`<span class="badge bad" role="status">Live updates interrupted — reconnecting…</span>`}
      ${user && html`<span class="who">${user.username} (${user.effective_role})</span>
        <button type="button" class="link" onClick=${signOut}>Sign out</button>`}
    </header>`;
}

function App() {
  const p = path.value;
  const user = me.value;
  useEffect(() => { document.getElementById('app').removeAttribute('aria-busy'); }, []);
  if (user === undefined) return html`<p class="loading">Loading…</p>`;
  if (user === null) return html`<${Login} />`;
  if (user.password_change_required) return html`<${Header} /><main><${ChoosePassword} /></main>`;
  if (p.startsWith('/login')) {
    queueMicrotask(() => navigate(nextPage(), { replace: true }));
    return null;
  }
  const server = p.match(/^\/servers\/(\d+)(?:\/([a-z]+))?\/?$/);
  let page;
  if (server) page = html`<${ServerPage} id=${Number(server[1])} tab=${server[2] || 'overview'} />`;
  else if (p === '/' || p === '/servers' || p === '/servers/') page = html`<${ServerList} />`;
  else if (p === '/adapters' || p === '/adapters/') page = html`<${AdapterList} admin=${user.effective_role === 'admin'} />`;
  else page = html`<section><h1>Not found</h1><p>No page at this address. <a href="/servers">See the servers</a>.</p></section>`;
  return html`<${Header} /><main>${page}</main>`;
}

export function nextPage() {
  const next = new URLSearchParams(location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/servers';
}

effect(() => {
  const p = path.value;
  const id = p.match(/^\/servers\/(\d+)/);
  document.title = p.startsWith('/login') ? 'Sign in · Garrison'
    : id ? `Server ${id[1]} · Garrison`
      : p.startsWith('/adapters') ? 'Games · Garrison' : 'Servers · Garrison';
});

render(html`<${App} />`, document.getElementById('app'));
loadMe();
