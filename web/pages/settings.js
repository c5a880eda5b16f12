// Rename, restart policy, stop grace; delete with typed confirmation.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';
import * as api from '../api.js';
import { navigate } from '../app.js';
import { Dialog } from '../components/dialog.js';

export function Settings({ server, onSaved }) {
  const [name, setName] = useState(server.name);
  const [restart, setRestart] = useState(server.restart);
  const [grace, setGrace] = useState(server.stop_grace_secs);
  const [errors, setErrors] = useState({});
  const [status, setStatus] = useState('');
  const [deleting, setDeleting] = useState(false);
  async function save(event) {
    event.preventDefault();
    setStatus('');
    try {
      await api.patch(`/servers/${server.id}`, { name, restart, stop_grace_secs: grace });
      setErrors({});
      setStatus('Saved.');
      onSaved();
    } catch (e) {
      setErrors(Object.fromEntries(e.errors.map((x) => [x.field, x.message])));
      setStatus(e.errors.length ? '' : e.message);
    }
  }
  const err = (f) => errors[f] && html`<p class="error" id=${`set-${f}-error`}>${errors[f]}</p>`;
  return html`
    <form class="card settings" onSubmit=${save}>
      <label for="set-name">Name</label>
      <input id="set-name" required value=${name} aria-invalid=${errors.name ? 'true' : undefined} onInput=${(e) => setName(e.currentTarget.value)} />
      ${err('name')}
      <fieldset><legend>Restart after a crash</legend>
        <label><input type="checkbox" checked=${restart.enabled} onChange=${(e) => setRestart({ ...restart, enabled: e.currentTarget.checked })} /> Restart crashed server</label>
        <label for="set-max">Restarts at most</label>
        <input id="set-max" type="number" min="0" max="100" value=${restart.max} onInput=${(e) => setRestart({ ...restart, max: Number(e.currentTarget.value) })} />
        ${err('restart.max')}
        <label for="set-window">Within (seconds)</label>
        <input id="set-window" type="number" min="1" max="86400" value=${restart.window_secs} onInput=${(e) => setRestart({ ...restart, window_secs: Number(e.currentTarget.value) })} />
        ${err('restart.window_secs')}
      </fieldset>
      <label for="set-grace">Stop grace (seconds before the process is killed)</label>
      <input id="set-grace" type="number" min="0" value=${grace} onInput=${(e) => setGrace(Number(e.currentTarget.value))} />
      ${err('stop_grace_secs')}
      ${status && html`<p role="status" class="notice">${status}</p>`}
      <button type="submit" class="primary">Save</button>
    </form>
    <section class="card danger-zone"><h2>Delete this server</h2>
      <p>Its settings, logs and history are removed.</p>
      <button type="button" class="danger" onClick=${() => setDeleting(true)}>Delete server</button></section>
    ${deleting && html`<${DeleteDialog} server=${server} onClose=${() => setDeleting(false)} />`}`;
}

function DeleteDialog({ server, onClose }) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState('');
  async function remove(event) {
    event.preventDefault();
    try { await api.del(`/servers/${server.id}`); navigate('/servers'); } catch (e) { setError(e.message); }
  }
  return html`<${Dialog} title=${`Delete ${server.name}?`} onClose=${onClose}>
    <form onSubmit=${remove}>
      <label for="delete-name">Type the server's name to confirm</label>
      <input id="delete-name" autocomplete="off" value=${typed} onInput=${(e) => setTyped(e.currentTarget.value)} />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="buttons"><button type="button" onClick=${onClose}>Cancel</button>
        <button type="submit" class="danger" disabled=${typed !== server.name}>Delete for good</button></div>
    </form><//>`;
}
