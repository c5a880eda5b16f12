// A server's state as a badge: colour and word.
import { html } from '../html.js';
import { stateText } from '../format.js';

export function StateBadge({ server }) {
  return html`<span class="badge state-${server.actual_state}">${stateText(server)}</span>`;
}
