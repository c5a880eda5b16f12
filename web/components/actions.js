// Start / stop / restart (and kill) buttons for one server; nothing for viewers. Stop and
// kill ask for confirmation.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';
import * as api from '../api.js';
import { Confirm } from './dialog.js';

export function Actions({ server, kill = false, onDone }) {
  const [asking, setAsking] = useState(null);
  const [error, setError] = useState('');
  if (server.access !== 'manage') return null;
  const running = ['running', 'starting'].includes(server.actual_state);
  async function act(action) {
    setAsking(null);
    setError('');
    try {
      await api.post(`/servers/${server.id}/actions/${action}`);
      onDone?.();
    } catch (e) { setError(e.message); }
  }
  const label = (word) => `${word} ${server.name}`;
  return html`<span class="actions">
    ${!running && html`<button type="button" aria-label=${label('Start')} title="Start" onClick=${() => act('start')}>Start</button>`}
    ${running && html`<button type="button" aria-label=${label('Stop')} title="Stop" onClick=${() => setAsking('stop')}>Stop</button>`}
    ${running && html`<button type="button" aria-label=${label('Restart')} title="Restart" onClick=${() => act('restart')}>Restart</button>`}
    ${kill && server.actual_state !== 'stopped' && html`<button type="button" class="danger" aria-label=${label('Kill')} onClick=${() => setAsking('kill')}>Kill</button>`}
    ${error && html`<span class="error" role="alert">${error}</span>`}
    ${asking && html`<${Confirm}
      title=${asking === 'kill' ? `Kill ${server.name}?` : `Stop ${server.name}?`}
      body=${asking === 'kill' ? 'The process is killed at once; unsaved game state is lost.' : 'Players on it are disconnected.'}
      confirm=${asking === 'kill' ? 'Kill' : 'Stop'}
      onConfirm=${() => act(asking)} onCancel=${() => setAsking(null)} />`}
  </span>`;
}
