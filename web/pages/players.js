// Players online (live) with kick and ban, the player history, and the server's bans.
import { useEffect, useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';
import * as api from '../api.js';
import * as live from '../live.js';
import { ago, time } from '../format.js';
import { Dialog } from '../components/dialog.js';

export function Players({ server }) {
  const [online, setOnline] = useState(null);
  const [history, setHistory] = useState([]);
  const [query, setQuery] = useState('');
  const [acting, setActing] = useState(null);
  const [notice, setNotice] = useState('');
  async function load() {
    try { setOnline((await api.get(`/servers/${server.id}/players`)).online); } catch { setOnline([]); }
    try { setHistory((await api.get(`/servers/${server.id}/players/history?limit=200`)).items); } catch { /* none */ }
  }
  useEffect(() => {
    load();
    return live.watch({
      servers: [server.id],
      reload: load,
      on(m) { if (m.type === 'players') setOnline(m.online); },
    });
  }, [server.id]);
  const manage = server.access === 'manage';
  const q = query.toLowerCase();
  return html`
    <h2>Online</h2>
    ${notice && html`<p role="status" class="notice">${notice}</p>`}
    ${online === null ? html`<p class="loading">Loading…</p>` : online.length === 0 ? html`<p class="empty">Nobody is on the server.</p>` : html`
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">Name</th><th scope="col">Ping</th><th scope="col">Joined</th><th scope="col">Ids</th>${manage && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
      <tbody>${online.map((p) => html`<tr key=${p.key}>
        <td>${p.name}</td><td>${p.ping_ms ?? '—'} ${p.ping_ms != null ? 'ms' : ''}</td><td>${ago(p.joined_at)} ago</td>
        <td class="ids">${[p.slot && `slot ${p.slot}`, p.unique_id, p.address].filter(Boolean).join(' · ')}</td>
        ${manage && html`<td><span class="actions">
          <button type="button" aria-label=${`Kick ${p.name}`} onClick=${() => setActing({ player: p, what: 'kick' })}>Kick</button>
          <button type="button" class="danger" aria-label=${`Ban ${p.name}`} onClick=${() => setActing({ player: p, what: 'ban' })}>Ban</button></span></td>`}
      </tr>`)}</tbody></table></div>`}
    ${acting && html`<${PlayerAction} server=${server} ...${acting}
      onClose=${(message) => { setActing(null); if (message) { setNotice(message); load(); } }} />`}
    <h2>History</h2>
    <label>Search players <input type="search" value=${query} onInput=${(e) => setQuery(e.currentTarget.value)} /></label>
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Last seen</th></tr></thead>
      <tbody>${history.filter((p) => !q || JSON.stringify(p).toLowerCase().includes(q)).map((p, i) => html`<tr key=${i}>
        <td>${p.name ?? p.last_name ?? '—'}</td><td>${p.unique_id ?? p.player_key ?? '—'}</td><td>${time(p.last_seen)}</td></tr>`)}</tbody>
    </table></div>`;
}

function PlayerAction({ server, player, what, onClose }) {
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState('');
  const [error, setError] = useState('');
  async function submit(event) {
    event.preventDefault();
    const body = { reason };
    if (what === 'ban' && minutes !== '') body.minutes = Number(minutes);
    try {
      await api.post(`/servers/${server.id}/players/${encodeURIComponent(player.key)}/${what}`, body);
      onClose(what === 'kick' ? `${player.name} was kicked.` : `${player.name} was banned.`);
    } catch (e) { setError(e.field('reason') || e.field('minutes') || e.message); }
  }
  return html`<${Dialog} title=${`${what === 'kick' ? 'Kick' : 'Ban'} ${player.name}`} onClose=${() => onClose()}>
    <form onSubmit=${submit}>
      <label for="action-reason">Reason</label>
      <input id="action-reason" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} />
      ${what === 'ban' && html`<label for="action-minutes">Minutes (empty: permanent)</label>
        <input id="action-minutes" type="number" min="1" value=${minutes} onInput=${(e) => setMinutes(e.currentTarget.value)} />`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="buttons"><button type="button" onClick=${() => onClose()}>Cancel</button>
        <button type="submit" class="danger">${what === 'kick' ? 'Kick' : 'Ban'}</button></div>
    </form>
  <//>`;
}

export function Bans({ server }) {
  const [bans, setBans] = useState(null);
  const [identity, setIdentity] = useState('');
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState('');
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  async function load() {
    try { setBans(await api.get(`/servers/${server.id}/bans`)); } catch (e) { setError(e.message); }
  }
  useEffect(() => { load(); }, [server.id]);
  async function add(event) {
    event.preventDefault();
    setError('');
    try {
      const body = { identity, reason };
      if (minutes !== '') body.minutes = Number(minutes);
      const answer = await api.post(`/servers/${server.id}/bans`, body);
      setNotice(answer.pushed === 'now' ? 'Banned; the game was told.' : 'Banned; the game is told when its console connects.');
      setIdentity(''); setReason(''); setMinutes('');
      load();
    } catch (e) { setError(e.field('identity') || e.message); }
  }
  async function lift(ban) {
    try {
      await api.del(`/servers/${server.id}/bans/${encodeURIComponent(ban.id)}`);
      setNotice(`Ban of ${ban.player_name || ban.identity} lifted.`);
      load();
    } catch (e) { setError(e.message); }
  }
  const manage = server.access === 'manage';
  return html`
    ${notice && html`<p role="status" class="notice">${notice}</p>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${!bans ? html`<p class="loading">Loading…</p>` : bans.items.length === 0 ? html`<p class="empty">No bans.</p>` : html`
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">Identity</th><th scope="col">Player</th><th scope="col">Reason</th><th scope="col">Ends</th><th scope="col">Source</th><th scope="col">In game</th>${manage && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
      <tbody>${bans.items.map((b) => html`<tr key=${b.id}>
        <td class="ids">${b.identity}</td><td>${b.player_name || '—'}</td><td>${b.reason || '—'}</td>
        <td>${b.expires_at ? time(b.expires_at) : 'never'}</td>
        <td>${b.source}${b.source === 'garrison' ? (b.pushed ? ', pushed' : ', not pushed yet') : ''}</td>
        <td>${b.in_game == null ? '—' : b.in_game ? 'yes' : 'no'}</td>
        ${manage && html`<td><button type="button" aria-label=${`Lift ban of ${b.player_name || b.identity}`} onClick=${() => lift(b)}>Lift</button></td>`}
      </tr>`)}</tbody></table></div>`}
    ${bans && !bans.game_list_read && html`<p class="muted">The game's own list could not be read (its console is not connected).</p>`}
    ${manage && html`<h2>Add a ban</h2>
    <form class="inline-form" onSubmit=${add}>
      <label>Identity <input required value=${identity} onInput=${(e) => setIdentity(e.currentTarget.value)} /></label>
      <label>Reason <input value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} /></label>
      <label>Minutes <input type="number" min="1" placeholder="permanent" value=${minutes} onInput=${(e) => setMinutes(e.currentTarget.value)} /></label>
      <button type="submit">Add ban</button>
    </form>`}`;
}
