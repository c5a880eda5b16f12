// The one WebSocket of the tab. Pages subscribe to the servers on screen with `watch`, which
// hands them every message for those servers; `connected` says whether live updates flow.
// The socket authenticates with the session cookie. After a `resync` or a reconnect, every
// watcher's `reload` runs so pages fetch what they missed through REST. When the host says
// the credential is no longer good (`auth_expired`, close code 4001), the app is asked to
// check the session (`whenAuthLost`): a revoked or expired one returns to sign-in.
import { signal } from './vendor/signals.mjs';

export const connected = signal(true);
const watchers = new Set();
let socket = null;
let backoff = 500;
let timer = null;
let stopped = true;
let onAuthLost = () => {};
export function whenAuthLost(fn) { onAuthLost = fn; }

function wanted() {
  const ids = new Set();
  let everything = false;
  for (const w of watchers) {
    if (w.all) everything = true;
    for (const id of w.servers) ids.add(id);
  }
  return { everything, ids: [...ids] };
}

function subscribe() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  const { everything, ids } = wanted();
  socket.send(JSON.stringify({ type: 'unsubscribe', all: true }));
  if (everything) socket.send(JSON.stringify({ type: 'subscribe', all: true }));
  else if (ids.length) socket.send(JSON.stringify({ type: 'subscribe', servers: ids }));
}

function reloadAll() { for (const w of watchers) w.reload?.(); }

function open() {
  if (socket || stopped) return;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
  socket = ws;
  let wasDown = !connected.value;
  ws.onmessage = (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    if (message.type === 'authenticated') {
      connected.value = true;
      backoff = 500;
      subscribe();
      if (wasDown) reloadAll();
      wasDown = false;
      return;
    }
    if (message.type === 'resync') { reloadAll(); return; }
    if (message.type === 'auth_expired') { onAuthLost(); return; }
    for (const w of watchers) {
      if (w.all || w.servers.includes(message.server_id)) w.on(message);
    }
  };
  ws.onclose = (event) => {
    socket = null;
    if (stopped) return;
    // A credential the host no longer takes closes with 4001: the app checks the session
    // (signing out stops this socket for good); otherwise reconnect soon without calling it
    // an interruption.
    if (event.code === 4001) onAuthLost();
    else connected.value = false;
    clearTimeout(timer);
    timer = setTimeout(open, event.code === 4001 ? 1000 : backoff);
    backoff = Math.min(backoff * 2, 15000);
  };
}

export function start() { stopped = false; open(); }
export function stop() {
  stopped = true;
  clearTimeout(timer);
  socket?.close();
  socket = null;
  watchers.clear();
}

// Watches `servers` (ids) or everything (`all: true`); `on(message)` gets each message,
// `reload()` runs when messages were missed. Returns the function that ends the watch.
export function watch({ servers = [], all = false, on, reload }) {
  const watcher = { servers, all, on, reload };
  watchers.add(watcher);
  subscribe();
  return () => { watchers.delete(watcher); subscribe(); };
}
