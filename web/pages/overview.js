// Graphs of CPU, memory, players and the game's own figures over a chosen range, from
// /servers/{id}/metrics and extended live by `metrics` messages; recent events below.
import { useEffect, useRef, useState } from '../vendor/hooks.mjs';
import uPlot from '../vendor/uplot.mjs';
import { html } from '../html.js';
import * as api from '../api.js';
import * as live from '../live.js';
import { bytes, time } from '../format.js';

const RANGES = [['15 min', 15 * 60e3], ['1 h', 3600e3], ['24 h', 86400e3], ['7 d', 7 * 86400e3]];
const LABELS = { cpu_percent: 'CPU %', memory_bytes: 'Memory', players: 'Players', server_fps: 'Server FPS' };

function Chart({ name, points, range }) {
  const span = useRef(range);
  span.current = range;
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const width = Math.max(240, box.current.clientWidth);
    const opts = {
      width, height: 160,
      // The x axis always spans the chosen range, ending now, however few points there are.
      scales: { x: { time: true, range: () => [(Date.now() - span.current) / 1000, Date.now() / 1000] } },
      series: [{}, { label: LABELS[name] || name, stroke: 'currentColor', width: 1.5, value: (u, v) => (v == null ? '—' : name === 'memory_bytes' ? bytes(v) : v.toFixed(1)) }],
      axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor', size: 60, values: (u, vals) => vals.map((v) => (name === 'memory_bytes' ? bytes(v) : v)) }],
    };
    plot.current = new uPlot(opts, [[], []], box.current);
    const resize = () => plot.current?.setSize({ width: Math.max(240, box.current.clientWidth), height: 160 });
    window.addEventListener('resize', resize);
    return () => { window.removeEventListener('resize', resize); plot.current.destroy(); };
  }, [name]);
  useEffect(() => {
    plot.current?.setData([points.map((p) => p[0] / 1000), points.map((p) => p[1])]);
  }, [points, range]);
  return html`<figure class="chart card"><figcaption>${LABELS[name] || name}</figcaption><div ref=${box} role="img" aria-label=${`${LABELS[name] || name} over time`}></div></figure>`;
}

export function Overview({ server }) {
  const [range, setRange] = useState(RANGES[1][1]);
  const [series, setSeries] = useState({});
  const [events, setEvents] = useState([]);
  async function load() {
    const to = Date.now();
    try {
      const m = await api.get(`/servers/${server.id}/metrics?from=${to - range}&to=${to}`);
      setSeries(Object.fromEntries(m.series.map((s) => [s.name, s.points])));
    } catch { /* graphs stay empty */ }
    try { setEvents((await api.get(`/servers/${server.id}/events?limit=10`)).items); } catch { /* none */ }
  }
  useEffect(() => {
    load();
    return live.watch({
      servers: [server.id],
      reload: load,
      on(m) {
        if (m.type === 'metrics') {
          setSeries((current) => {
            const next = { ...current };
            for (const [name, value] of m.samples) next[name] = [...(next[name] || []), [m.at, value]].filter((p) => p[0] >= Date.now() - range);
            return next;
          });
        }
        if (m.type === 'event') setEvents((e) => [m.event, ...e].slice(0, 10));
      },
    });
  }, [server.id, range]);
  // Ports and process counts are figures, not things to watch over time.
  const names = Object.keys(series).filter((n) => n !== 'processes' && !n.endsWith('_port'));
  return html`
    <div class="range" role="group" aria-label="Time range">
      ${RANGES.map(([label, ms]) => html`<button type="button" aria-pressed=${range === ms} onClick=${() => setRange(ms)}>${label}</button>`)}
    </div>
    ${names.length === 0 ? html`<p class="empty">No figures yet: they are sampled while the server runs.</p>`
      : html`<div class="charts">${names.map((n) => html`<${Chart} key=${n} name=${n} points=${series[n]} range=${range} />`)}</div>`}
    <h2>Recent events</h2>
    <${EventList} events=${events} />`;
}

export function EventList({ events }) {
  if (!events.length) return html`<p class="empty">No events.</p>`;
  return html`<ul class="events">${events.map((e) => html`<li key=${e.id}><time>${time(e.at)}</time> <span class="badge">${e.kind}</span> ${e.message}</li>`)}</ul>`;
}
