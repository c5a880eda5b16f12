// The server's log, live: coloured by level, filter by level and source, search, follow or
// pause (scrolling up pauses), older lines on scroll-up, a cap on lines kept; a command
// input with per-server history kept across reloads.
import { useEffect, useRef, useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';
import * as api from '../api.js';
import * as live from '../live.js';

// Lines kept in the page; older ones are dropped (and can be loaded again by scrolling up).
export const MAX_LINES = 2000;
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

function merge(lines, incoming) {
  const last = lines.length ? lines[lines.length - 1].seq : 0;
  const fresh = incoming.filter((l) => l.seq > last);
  if (!fresh.length) return lines;
  const all = lines.concat(fresh);
  return all.length > MAX_LINES ? all.slice(all.length - MAX_LINES) : all;
}

export function Console({ server, caps }) {
  const [lines, setLines] = useState([]);
  const [level, setLevel] = useState('');
  const [source, setSource] = useState('');
  const [search, setSearch] = useState('');
  const [follow, setFollow] = useState(true);
  const [older, setOlder] = useState(true);
  const box = useRef(null);
  const pending = useRef([]);

  async function load() {
    try {
      const page = await api.get(`/servers/${server.id}/logs?limit=300`);
      const items = page.items.slice().sort((a, b) => a.seq - b.seq);
      setLines((current) => merge(items, current.filter((l) => !items.length || l.seq > items[items.length - 1].seq)));
    } catch { /* shown as an empty console */ }
  }
  async function loadOlder() {
    if (!lines.length || !older) return;
    const first = lines[0].seq;
    const page = await api.get(`/servers/${server.id}/logs?before=${first}&limit=300`);
    const items = page.items.slice().sort((a, b) => a.seq - b.seq);
    if (!items.length) { setOlder(false); return; }
    const el = box.current;
    const height = el.scrollHeight;
    setLines((current) => items.concat(current));
    requestAnimationFrame(() => { el.scrollTop += el.scrollHeight - height; });
  }
  useEffect(() => {
    load();
    // Lines arrive in bursts; they are applied once per frame.
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = pending.current;
      pending.current = [];
      setLines((current) => merge(current, batch));
    };
    const stop = live.watch({
      servers: [server.id],
      reload: load,
      on(m) {
        if (m.type !== 'log') return;
        pending.current.push(...m.lines);
        if (!frame) frame = requestAnimationFrame(flush);
      },
    });
    return () => { stop(); if (frame) cancelAnimationFrame(frame); };
  }, [server.id]);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  });
  function onScroll() {
    const el = box.current;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    if (follow !== atBottom) setFollow(atBottom);
    if (el.scrollTop === 0) loadOlder();
  }
  const sources = [...new Set(lines.map((l) => l.source))];
  const needle = search.toLowerCase();
  const minLevel = LEVELS.indexOf(level);
  const shown = lines.filter((l) => (!source || l.source === source)
    && (minLevel < 0 || LEVELS.indexOf(l.level) >= minLevel)
    && (!needle || l.text.toLowerCase().includes(needle)));
  return html`
    <div class="console-tools">
      <label>Level <select value=${level} onChange=${(e) => setLevel(e.currentTarget.value)}>
        <option value="">all</option>${LEVELS.map((l) => html`<option value=${l}>${l} and above</option>`)}</select></label>
      <label>Source <select value=${source} onChange=${(e) => setSource(e.currentTarget.value)}>
        <option value="">all</option>${sources.map((s) => html`<option value=${s}>${s}</option>`)}</select></label>
      <label>Search <input type="search" value=${search} onInput=${(e) => setSearch(e.currentTarget.value)} /></label>
      <button type="button" aria-pressed=${!follow} onClick=${() => setFollow(!follow)}>${follow ? 'Pause' : 'Follow'}</button>
    </div>
    <div class="console" ref=${box} onScroll=${onScroll} role="log" aria-label="Console output" tabindex="0">
      ${older && lines.length > 0 && html`<button type="button" class="link" onClick=${loadOlder}>Load older lines</button>`}
      ${shown.map((l) => html`<div key=${l.seq} class=${`line level-${l.level}`}><span class="src">${l.source}</span> ${l.text}</div>`)}
      ${lines.length === 0 && html`<p class="muted">No log lines yet.</p>`}
    </div>
    ${server.access === 'manage' && caps.has('rcon') && html`<${CommandInput} server=${server} />`}`;
}

function CommandInput({ server }) {
  const key = `garrison.history.${server.id}`;
  const [value, setValue] = useState('');
  const [replies, setReplies] = useState([]);
  const [pos, setPos] = useState(-1);
  const history = () => { try { return JSON.parse(localStorage.getItem(key)) || []; } catch { return []; } };
  async function send(event) {
    event.preventDefault();
    const command = value.trim();
    if (!command) return;
    localStorage.setItem(key, JSON.stringify([command, ...history().filter((c) => c !== command)].slice(0, 50)));
    setValue('');
    setPos(-1);
    try {
      const answer = await api.post(`/servers/${server.id}/console`, { command });
      setReplies((r) => [...r.slice(-19), { command, reply: answer.reply }]);
    } catch (e) {
      setReplies((r) => [...r.slice(-19), { command, reply: e.message, failed: true }]);
    }
  }
  function keys(event) {
    const h = history();
    if (event.key === 'ArrowUp' && pos + 1 < h.length) { event.preventDefault(); setPos(pos + 1); setValue(h[pos + 1]); }
    if (event.key === 'ArrowDown') { event.preventDefault(); const p = Math.max(-1, pos - 1); setPos(p); setValue(p < 0 ? '' : h[p]); }
  }
  return html`
    <div class="replies" aria-live="polite">${replies.map((r) => html`<div class=${r.failed ? 'reply error' : 'reply'}><b>› ${r.command}</b><pre>${r.reply}</pre></div>`)}</div>
    <form class="command" onSubmit=${send}>
      <label for="console-command" class="sr-only">Console command</label>
      <input id="console-command" placeholder="Command (↑/↓ for history)" autocomplete="off" value=${value}
        onInput=${(e) => setValue(e.currentTarget.value)} onKeyDown=${keys} />
      <button type="submit">Send</button>
    </form>`;
}
