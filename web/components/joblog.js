// A job's log, live: the lines so far and then each new one (server-sent events from
// `/jobs/{id}/logs`), until the job ends. `onEnd` runs once it has.
import { useEffect, useRef, useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';

export function JobLog({ id, onEnd }) {
  const [lines, setLines] = useState([]);
  const [ended, setEnded] = useState(false);
  const box = useRef(null);
  const ending = useRef(onEnd);
  ending.current = onEnd;
  useEffect(() => {
    setLines([]);
    setEnded(false);
    const source = new EventSource(`/api/v1/jobs/${id}/logs`);
    source.addEventListener('line', (e) => {
      let text = e.data;
      try { const parsed = JSON.parse(e.data); text = parsed.text ?? parsed.line ?? e.data; } catch { /* plain text */ }
      setLines((l) => [...l.slice(-1999), text]);
    });
    source.addEventListener('end', () => { setEnded(true); source.close(); ending.current?.(); });
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) setEnded(true); };
    return () => source.close();
  }, [id]);
  useEffect(() => { if (box.current) box.current.scrollTop = box.current.scrollHeight; });
  return html`<section class="card"><h2>Log of job ${id}</h2>
    <div class="console" ref=${box} role="log" aria-label=${`Log of job ${id}`}>${lines.map((l, i) => html`<div key=${i} class="line">${l}</div>`)}
    ${ended && html`<p class="muted">The job has ended.</p>`}</div></section>`;
}
