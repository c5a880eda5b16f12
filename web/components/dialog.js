// Modal dialogs on <dialog>: focus is kept inside, Escape cancels.
import { useEffect, useRef } from '../vendor/hooks.mjs';
import { html } from '../html.js';

export function Dialog({ title, onClose, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const cancel = (e) => { e.preventDefault(); onClose(); };
    d.addEventListener('cancel', cancel);
    return () => d.removeEventListener('cancel', cancel);
  }, []);
  return html`<dialog ref=${ref} aria-label=${title}><h2>${title}</h2>${children}</dialog>`;
}

export function Confirm({ title, body, confirm, onConfirm, onCancel }) {
  return html`<${Dialog} title=${title} onClose=${onCancel}>
    <p>${body}</p>
    <div class="buttons">
      <button type="button" onClick=${onCancel}>Cancel</button>
      <button type="button" class="danger" onClick=${onConfirm}>${confirm}</button>
    </div>
  <//>`;
}
