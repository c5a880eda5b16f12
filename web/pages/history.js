// The server's jobs (a job's log streams live over SSE; cancel) and its events (type filter).
import { useEffect, useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';
import * as api from '../api.js';
import * as live from '../live.js';
import { time } from '../format.js';
import { EventList } from './overview.js';
import { JobLog } from '../components/joblog.js';

export function Jobs({ server }) {
  const [jobs, setJobs] = useState(null);
  const [open, setOpen] = useState(null);
  async function load() {
    try { setJobs((await api.get(`/jobs?server_id=${server.id}&limit=50`)).items); } catch { setJobs([]); }
  }
  useEffect(() => {
    load();
    return live.watch({ servers: [server.id], reload: load, on(m) { if (m.type === 'job') load(); } });
  }, [server.id]);
  async function cancel(job) { try { await api.post(`/jobs/${job.id}/cancel`); load(); } catch { /* ended meanwhile */ } }
  if (!jobs) return html`<p class="loading">Loading…</p>`;
  if (!jobs.length) return html`<p class="empty">No jobs yet. Starting, stopping or installing the server queues one.</p>`;
  return html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">Job</th><th scope="col">State</th><th scope="col">Requested</th><th scope="col">Error</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${jobs.map((j) => html`<tr key=${j.id}>
      <td>#${j.id} ${j.kind}</td><td><span class=${`badge job-${j.state}`}>${j.state}</span>${j.progress != null && j.state === 'running' ? ` ${Math.round(j.progress)} %` : ''}</td>
      <td>${time(j.created_at)} by ${j.requested_by}</td><td>${j.error || ''}</td>
      <td><span class="actions"><button type="button" aria-expanded=${open === j.id} onClick=${() => setOpen(open === j.id ? null : j.id)}>Log of job ${j.id}</button>
        ${server.access === 'manage' && ['queued', 'running'].includes(j.state) && html`<button type="button" class="danger" onClick=${() => cancel(j)}>Cancel job ${j.id}</button>`}</span></td>
    </tr>`)}</tbody></table></div>
    ${open && html`<${JobLog} id=${open} />`}`;
}

export function Events({ server }) {
  const [events, setEvents] = useState([]);
  const [kind, setKind] = useState('');
  async function load() {
    try { setEvents((await api.get(`/servers/${server.id}/events?limit=200`)).items); } catch { /* none */ }
  }
  useEffect(() => {
    load();
    return live.watch({ servers: [server.id], reload: load, on(m) { if (m.type === 'event') setEvents((e) => [m.event, ...e]); } });
  }, [server.id]);
  const kinds = [...new Set(events.map((e) => e.kind))].sort();
  return html`<label>Type <select value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
      <option value="">all</option>${kinds.map((k) => html`<option value=${k}>${k}</option>`)}</select></label>
    <${EventList} events=${events.filter((e) => !kind || e.kind === kind)} />`;
}
