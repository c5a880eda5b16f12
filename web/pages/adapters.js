// The games the host can run (its adapters) and each game's install that its servers share
// (`runtimes/<adapter>/`): installed or not, the build, when it was last updated. An
// administrator installs or updates it here — one job for all the game's servers — and
// follows the job's log; the job's state arrives live (runtime jobs reach administrators
// subscribed to everything).
import { useEffect, useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';
import * as api from '../api.js';
import * as live from '../live.js';
import { time } from '../format.js';
import { JobLog } from '../components/joblog.js';

const runtimePath = (id) => `/adapters/${encodeURIComponent(id)}/runtime`;
const pending = (job) => job && ['queued', 'running'].includes(job.state);

export function AdapterList({ admin }) {
  const [adapters, setAdapters] = useState(null);
  const [runtimes, setRuntimes] = useState({});
  const [errors, setErrors] = useState({});
  const [error, setError] = useState('');
  const [open, setOpen] = useState(null);
  async function refresh(id) {
    try {
      const state = await api.get(runtimePath(id));
      setRuntimes((r) => ({ ...r, [id]: state }));
    } catch { /* the adapter was removed meanwhile */ }
  }
  async function load() {
    try {
      const list = (await api.get('/adapters')).adapters.filter((a) => a.active);
      setAdapters(list);
      setError('');
      await Promise.all(list.map((a) => refresh(a.id)));
    } catch (e) { setError(e.message); }
  }
  useEffect(() => {
    load();
    if (!admin) return undefined;
    return live.watch({
      all: true,
      reload: load,
      on(m) {
        const job = m.type === 'job' ? m.job : null;
        if (!job?.runtime_adapter) return;
        setRuntimes((r) => ({ ...r, [job.runtime_adapter]: { ...r[job.runtime_adapter], job } }));
        if (!pending(job)) refresh(job.runtime_adapter);
      },
    });
  }, [admin]);
  async function act(adapter, action) {
    setErrors((e) => ({ ...e, [adapter.id]: '' }));
    try {
      const job = await api.post(`${runtimePath(adapter.id)}/${action}`);
      // The live connection may have told of the job (running, even ended) before this
      // answer came: the answer's `queued` must not replace that.
      setRuntimes((r) => (r[adapter.id]?.job?.id === job.id ? r : { ...r, [adapter.id]: { ...r[adapter.id], job } }));
      setOpen({ job: job.id, adapter: adapter.id });
    } catch (e) { setErrors((all) => ({ ...all, [adapter.id]: e.message })); }
  }
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!adapters) return html`<p class="loading">Loading games…</p>`;
  return html`
    <section>
      <h1>Games</h1>
      <p class="muted">Each game's servers share one install of it. ${admin
        ? 'Install or update it here once for all of them, with the game\'s default settings.'
        : 'Administrators install and update it.'}</p>
      <div class="table-wrap"><table class="adapters">
        <thead><tr><th scope="col">Game</th><th scope="col">Adapter</th><th scope="col">Install</th>
          ${admin && html`<th scope="col">Last job</th><th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
        <tbody>${adapters.map((a) => {
          const runtime = runtimes[a.id];
          const job = runtime?.job;
          const name = a.name || a.id;
          return html`<tr key=${a.id}>
            <td>${name}</td>
            <td>${a.id} ${a.version} <span class="muted">· contract ${a.contract}</span></td>
            <td><${RuntimeState} runtime=${runtime} /></td>
            ${admin && html`<td>${job
              ? html`<span class=${`badge job-${job.state}`}>${job.kind} ${job.state}</span>${job.state === 'running' && job.progress != null ? ` ${Math.round(job.progress)} %` : ''}
                ${job.error && html` <span class="error">${job.error}</span>`}`
              : '—'}</td>
            <td><span class="actions">
              <button type="button" aria-label=${`${runtime?.installed ? 'Update' : 'Install'} ${name}`} disabled=${pending(job)}
                onClick=${() => act(a, runtime?.installed ? 'update' : 'install')}>${runtime?.installed ? 'Update' : 'Install'}</button>
              ${job && html`<button type="button" aria-expanded=${open?.job === job.id}
                onClick=${() => setOpen(open?.job === job.id ? null : { job: job.id, adapter: a.id })}>Log of job ${job.id}</button>`}
              ${errors[a.id] && html`<span class="error" role="alert">${errors[a.id]}</span>`}
            </span></td>`}
          </tr>`;
        })}</tbody></table></div>
      ${open && html`<${JobLog} id=${open.job} onEnd=${() => refresh(open.adapter)} />`}
    </section>`;
}

function RuntimeState({ runtime }) {
  if (!runtime) return '—';
  if (!runtime.installed) return html`<span class="badge">not installed</span>`;
  return html`<span class="badge job-succeeded">installed</span>
    ${runtime.build_id ? ` build ${runtime.build_id}` : ''}
    ${runtime.updated_at ? html` <span class="muted">· updated ${time(runtime.updated_at)}</span>` : ''}`;
}
