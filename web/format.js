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
// "starting → running" when the host is moving towards what was asked.
export function stateText(server) {
  const actual = server.actual_state;
  const desired = server.desired_state;
  if (actual === 'crashed' && desired === 'running' && server.restart?.enabled) return 'crashed, restarting';
  if (desired && desired !== actual && !(desired === 'stopped' && actual === 'unmanaged')) return `${actual} → ${desired}`;
  return actual;
}
