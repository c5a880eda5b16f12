// The server's settings as a form generated from its adapter's schema: sections, advanced
// fields folded away, checks as the user types, the adapter's own errors (422) on the fields.
import { useEffect, useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';
import * as api from '../api.js';
import { Field, check } from '../components/fields.js';

export function Config({ server, adapter }) {
  const [settings, setSettings] = useState(null);
  const [errors, setErrors] = useState({});
  const [touched, setTouched] = useState({});
  const [status, setStatus] = useState('');
  const [failure, setFailure] = useState('');
  useEffect(() => {
    api.get(`/servers/${server.id}/config`).then((c) => setSettings(c.settings), (e) => setFailure(e.message));
  }, [server.id]);
  if (failure && !settings) return html`<p class="error" role="alert">${failure}</p>`;
  if (!settings) return html`<p class="loading">Loading…</p>`;
  const schema = adapter.schema || [];
  const readOnly = server.access !== 'manage';
  const local = Object.fromEntries(schema.map((f) => [f.key, touched[f.key] ? check(f, settings[f.key]) : null]));
  function change(field, value) {
    setSettings({ ...settings, [field.key]: value });
    setTouched({ ...touched, [field.key]: true });
    setErrors({ ...errors, [field.key]: null });
    setStatus('');
  }
  async function save(event) {
    event.preventDefault();
    const all = Object.fromEntries(schema.map((f) => [f.key, check(f, settings[f.key])]));
    setTouched(Object.fromEntries(schema.map((f) => [f.key, true])));
    if (Object.values(all).some(Boolean)) { setFailure('Some fields need attention.'); return; }
    const body = {};
    for (const [key, value] of Object.entries(settings)) {
      if (value && typeof value === 'object' && !Array.isArray(value) && ('set' in value || 'replacing' in value)) continue;
      body[key] = value;
    }
    try {
      await api.put(`/servers/${server.id}/config`, { settings: body });
      setFailure('');
      setErrors({});
      setStatus('Saved. The new settings apply at the next start.');
      const fresh = await api.get(`/servers/${server.id}/config`);
      setSettings(fresh.settings);
    } catch (e) {
      setErrors(Object.fromEntries(e.errors.map((x) => [x.field.replace(/^settings\./, ''), x.message])));
      setFailure(e.errors.length ? 'The game refused some values; see the fields marked.' : e.message);
    }
  }
  async function restart() {
    try { await api.post(`/servers/${server.id}/actions/restart`); setStatus('Restarting with the new settings.'); } catch (e) { setFailure(e.message); }
  }
  const sections = [...new Set(schema.map((f) => f.section || 'General'))];
  const fieldsOf = (section, advanced) => schema.filter((f) => (f.section || 'General') === section && !!f.advanced === advanced);
  const render = (f) => html`<${Field} key=${f.key} field=${f} value=${settings[f.key]} error=${errors[f.key] || local[f.key]} onChange=${(v) => change(f, v)} />`;
  return html`
    <form class="config" noValidate onSubmit=${save}>
      <fieldset disabled=${readOnly}>
      ${sections.map((section) => html`<section class="card">
        <h2>${section}</h2>
        ${fieldsOf(section, false).map(render)}
        ${fieldsOf(section, true).length > 0 && html`<details><summary>Advanced</summary>${fieldsOf(section, true).map(render)}</details>`}
      </section>`)}
      </fieldset>
      ${failure && html`<p class="error" role="alert">${failure}</p>`}
      ${status && html`<p class="notice" role="status">${status}
        ${server.actual_state === 'running' && !readOnly && html` <button type="button" onClick=${restart}>Restart now</button>`}</p>`}
      ${!readOnly && html`<button type="submit" class="primary">Save settings</button>`}
    </form>`;
}
