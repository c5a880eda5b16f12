// Small formatting helpers shared by the pages.
export function bytes(n) {
  if (n == null || Number.isNaN(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(n < 10 && i ? 1 : 0)} ${units[i]}`;
}
export const percent = (n) => (n == null ? '—' : `${n.toFixed(1)} %`);
export function time(value) {
  if (value == null) return '—';
  const d = typeof value === 'number' ? new Date(value) : new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}
export function ago(value) {
  const ms = Date.now() - new Date(value).getTime();
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}
// How long since `value` (a time), as "42 s", "12 min", "3 h 12 min" or "2 d 4 h".
export function duration(value, now = Date.now()) {
  const ms = now - new Date(value).getTime();
  if (!Number.isFinite(ms)) return null;
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}
// "starting → running" when the host is moving towards what was asked; "crashed, restarting
// 2/3" while the host restarts a crashed server (the second of three restarts allowed).
export function stateText(server) {
  const actual = server.actual_state;
  const desired = server.desired_state;
  const r = server.restarts;
  if (actual === 'crashed' && r?.restarting) return `crashed, restarting ${r.count}/${r.max}`;
  if (actual === 'crashed') return 'crashed';
  if (desired && desired !== actual && !(desired === 'stopped' && actual === 'unmanaged')) return `${actual} → ${desired}`;
  return actual;
}
