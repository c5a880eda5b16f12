// One server: a header with its state and actions, and tabs that are real URLs.
import { useEffect, useRef, useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';
import * as api from '../api.js';
import * as live from '../live.js';
import { ago } from '../format.js';
import { StateBadge, Uptime, fromStatus } from '../components/state.js';
import { Actions } from '../components/actions.js';
import { Overview } from './overview.js';
import { Console } from './console.js';
import { Players, Bans } from './players.js';
import { Config } from './config.js';
import { Jobs, Events } from './history.js';
import { Settings } from './settings.js';

const TABS = [
  ['overview', 'Overview', () => true],
  ['console', 'Console', () => true],
  ['players', 'Players', (caps) => caps.has('players')],
  ['bans', 'Bans', (caps) => caps.has('ban')],
  ['config', 'Config', () => true],
  ['jobs', 'Jobs', () => true],
  ['events', 'Events', () => true],
  ['settings', 'Settings', (caps, server) => server.access === 'manage'],
];

export function ServerPage({ id, tab }) {
  const [server, setServer] = useState(null);
  const [adapter, setAdapter] = useState(null);
  const [job, setJob] = useState(null);
  const [error, setError] = useState('');
  // The last state the live connection reported: a reload answered before it arrived must
  // not put the older state back.
  const seen = useRef({ tick: 0, state: null });
  async function load() {
    const since = seen.current.tick;
    try {
      const s = await api.get(`/servers/${id}`);
      setServer(seen.current.tick > since ? { ...s, ...seen.current.state } : s);
      setError('');
      if (!adapter || adapter.id !== s.adapter) setAdapter(await api.get(`/adapters/${encodeURIComponent(s.adapter)}`));
    } catch (e) { setError(e.status === 404 ? 'There is no server with this id, or you may not see it.' : e.message); }
  }
  useEffect(() => {
    load();
    return live.watch({
      servers: [id],
      reload: load,
      on(m) {
        if (m.type === 'status') {
          const state = fromStatus(m);
          seen.current = { tick: seen.current.tick + 1, state };
          setServer((s) => s && { ...s, ...state });
        }
        if (m.type === 'job') {
          setJob(['queued', 'running'].includes(m.job.state) ? m.job : null);
          // After a delete there is nothing to reload (the page leaves for the list).
          if (!['queued', 'running'].includes(m.job.state) && m.job.kind !== 'delete') load();
        }
      },
    });
  }, [id]);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!server || !adapter) return html`<p class="loading">Loading…</p>`;
  const caps = new Set(adapter.capabilities || []);
  const tabs = TABS.filter(([, , shown]) => shown(caps, server));
  const current = tabs.find(([key]) => key === tab) ? tab : 'overview';
  const pages = {
    overview: () => html`<${Overview} server=${server} />`,
    console: () => html`<${Console} server=${server} caps=${caps} />`,
    players: () => html`<${Players} server=${server} />`,
    bans: () => html`<${Bans} server=${server} />`,
    config: () => html`<${Config} server=${server} adapter=${adapter} />`,
    jobs: () => html`<${Jobs} server=${server} />`,
    events: () => html`<${Events} server=${server} />`,
    settings: () => html`<${Settings} server=${server} onSaved=${load} />`,
  };
  return html`
    <section>
      <div class="server-head">
        <div>
          <h1>${server.name}</h1>
          <p class="muted">${adapter.name || server.adapter} · <${StateBadge} server=${server} />
            ${server.started_at && ['starting', 'running', 'stopping'].includes(server.actual_state)
              ? html` · <${Uptime} server=${server} />`
              : html` · changed ${ago(server.updated_at)} ago`}
            ${server.last_error && html` · <span class="error">${server.last_error}</span>`}</p>
          ${job && html`<p class="job" role="status">${job.kind} ${job.state}${job.progress != null ? ` ${Math.round(job.progress)} %` : ''}</p>`}
        </div>
        <${Actions} server=${server} kill=${true} onDone=${load} />
      </div>
      <nav class="tabs" aria-label="Server">
        ${tabs.map(([key, label]) => html`<a href=${`/servers/${id}/${key}`} aria-current=${key === current ? 'page' : undefined}>${label}</a>`)}
      </nav>
      <div class="tab">${pages[current]()}</div>
    </section>`;
}
