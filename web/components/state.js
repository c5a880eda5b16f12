// A server's state as a badge (colour and word), and how long its game has been up.
import { useEffect, useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';
import { duration, stateText } from '../format.js';

export function StateBadge({ server }) {
  return html`<span class="badge state-${server.actual_state}">${stateText(server)}</span>`;
}

// "up 3 h 12 min" since the game process started, ticking; nothing without a process.
export function Uptime({ server }) {
  const [now, setNow] = useState(Date.now());
  const since = ['starting', 'running', 'stopping'].includes(server.actual_state) ? server.started_at : null;
  useEffect(() => {
    if (!since) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [since]);
  const text = since && duration(since, now);
  return text ? html`<span class="uptime" title=${`Started ${new Date(since).toLocaleString()}`}>up ${text}</span>` : null;
}

// What a live `status` message says about a server, to merge into its row. The host records
// a crash's detail as the server's last error and clears it at any other state.
export function fromStatus(m) {
  return {
    actual_state: m.state,
    last_error: m.state === 'crashed' ? m.detail : null,
    ...(m.desired_state ? { desired_state: m.desired_state } : {}),
    ...('started_at' in m ? { started_at: m.started_at } : {}),
    ...(m.restarts ? { restarts: m.restarts } : {}),
  };
}
