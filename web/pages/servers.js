// Every server the user may see, live: state, players, CPU and memory, RCon; actions per row.
import { useEffect, useRef, useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';
import * as api from '../api.js';
import * as live from '../live.js';
import { bytes, percent } from '../format.js';
import { StateBadge, fromStatus } from '../components/state.js';
import { Actions } from '../components/actions.js';

export function ServerList() {
  const [servers, setServers] = useState(null);
  const [figures, setFigures] = useState({});
  const [error, setError] = useState('');
  // States the live connection reported; a reload whose answer was made before one of them
  // arrived must not put the older state back.
  const seen = useRef({ tick: 0, states: new Map() });
  async function load() {
    const since = seen.current.tick;
    try {
      const rows = await api.all('/servers');
      setServers(rows.map((s) => {
        const newer = seen.current.states.get(s.id);
        return newer && newer.tick > since ? { ...s, ...newer.state } : s;
      }));
      setError('');
    } catch (e) { setError(e.message); }
  }
  useEffect(() => {
    load();
    return live.watch({
      all: true,
      reload: load,
      on(m) {
        if (m.type === 'status') {
          const state = fromStatus(m);
          seen.current.tick += 1;
          seen.current.states.set(m.server_id, { tick: seen.current.tick, state });
          setServers((list) => list && list.map((s) => (s.id === m.server_id ? { ...s, ...state } : s)));
        } else if (m.type === 'players') {
          setFigures((f) => ({ ...f, [m.server_id]: { ...f[m.server_id], players: m.online.length } }));
        } else if (m.type === 'metrics') {
          const values = Object.fromEntries(m.samples);
          setFigures((f) => ({ ...f, [m.server_id]: { ...f[m.server_id], cpu: values.cpu_percent, memory: values.memory_bytes } }));
        } else if (m.type === 'event' || m.type === 'job') {
          // A server created, renamed, deleted or its desired state changed: reload the rows.
          if (m.type === 'job' && ['succeeded', 'failed', 'cancelled'].includes(m.job?.state)) load();
        }
      },
    });
  }, []);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!servers) return html`<p class="loading">Loading servers…</p>`;
  return html`
    <section>
      <h1>Servers</h1>
      ${servers.length === 0
        ? html`<p class="empty">No servers yet. Create one with <code>POST /api/v1/servers</code>, or start the host with <code>--demo</code> to try two simulated ones.</p>`
        : html`<div class="table-wrap"><table class="servers">
          <thead><tr><th scope="col">Name</th><th scope="col">Game</th><th scope="col">State</th>
            <th scope="col">Players</th><th scope="col">CPU</th><th scope="col">Memory</th><th scope="col">RCon</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>${servers.map((s) => {
            const f = figures[s.id] || {};
            const up = s.actual_state === 'running';
            return html`<tr key=${s.id}>
              <td><a href=${`/servers/${s.id}`}>${s.name}</a></td>
              <td>${s.adapter}</td>
              <td><${StateBadge} server=${s} /></td>
              <td>${up ? (f.players ?? s.players_online ?? '—') : '—'}</td>
              <td>${up ? percent(f.cpu) : '—'}</td>
              <td>${up ? bytes(f.memory) : '—'}</td>
              <td>${s.rcon || '—'}</td>
              <td><${Actions} server=${s} onDone=${load} /></td>
            </tr>`;
          })}</tbody></table></div>`}
    </section>`;
}
