// Figures for the dashboard (printed, not asserted): bytes transferred for a first load of a
// server page, time until a list of 200 servers is shown, and whether the console keeps up
// with a server logging 1,000 lines/s (long tasks over 100 ms while it runs).
//
// Run: node tests/browser/measure.mjs (after ./scripts/build-bins.sh).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.GARRISON_BIN || join(root, 'target/debug/garrison');
const port = await new Promise((ok) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'garrison-measure-'));
const host = spawn(bin, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], { stdio: 'ignore', detached: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let browser;
let token;

async function api(method, path, body) {
  const r = await fetch(`${base}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}

try {
  for (let i = 0; i < 300; i++) { try { if ((await fetch(`${base}/api/v1/system/health`)).ok) break; } catch { /* not yet */ } await sleep(200); }
  const password = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim();
  token = (await (await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) })).json()).token;
  // One server logging 1,000 lines/s, and 199 others that are never started.
  const script = 'import time,sys\nn=0\nwhile True:\n  t=time.time()\n  for i in range(100):\n    n+=1; print(f"line {n} level=info some text of a typical length for a game log")\n  sys.stdout.flush(); time.sleep(max(0,0.1-(time.time()-t)))';
  const code = `exec(bytes.fromhex("${Buffer.from(script).toString('hex')}").decode())`;
  const loud = await api('POST', '/servers', { name: 'Loud', adapter: 'generic', settings: { executable: '/usr/bin/python3', args: ['-c', code] } });
  for (let i = 2; i <= 200; i++) await api('POST', '/servers', { name: `Server ${i}`, adapter: 'generic', settings: { executable: '/bin/true' } });

  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Choose your password' }).waitFor();
  await page.getByLabel('Current password').fill(password);
  await page.getByLabel('New password', { exact: true }).fill('measure-password');
  await page.getByLabel('New password again').fill('measure-password');
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.getByRole('heading', { name: 'Servers' }).waitFor();
  token = (await (await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'measure-password' }) })).json()).token;

  // 1. The list of 200 servers, from navigation to the rows on screen.
  const t0 = Date.now();
  await page.goto(`${base}/servers`);
  await page.getByRole('link', { name: 'Server 200' }).waitFor();
  const listMs = Date.now() - t0;
  const rows = await page.getByRole('row').count();

  // 2. Bytes for a first load of a server page: a fresh page with an empty cache.
  const fresh = await context.newPage();
  const cdp = await context.newCDPSession(fresh);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0; let requests = 0;
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; requests += 1; });
  await fresh.goto(`${base}/servers/${loud.id}/overview`, { waitUntil: 'networkidle' });
  const firstLoad = bytes;
  await fresh.close();

  // 3. The console of the loud server while it logs 1,000 lines/s.
  await api('POST', `/servers/${loud.id}/actions/start`);
  for (let i = 0; i < 100; i++) { if ((await api('GET', `/servers/${loud.id}`)).actual_state === 'running') break; await sleep(200); }
  await page.goto(`${base}/servers/${loud.id}/console`);
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: false });
  });
  const before = await page.evaluate(() => document.querySelectorAll('.console .line').length);
  await sleep(10000);
  const result = await page.evaluate(() => ({ tasks: window.longTasks, lines: document.querySelectorAll('.console .line').length, last: document.querySelector('.console .line:last-child')?.textContent }));
  const clickStart = Date.now();
  console.log(JSON.stringify(result.tasks));
  await page.getByRole('button', { name: /^(Pause|Follow)$/ }).click({ timeout: 60000 });
  const clickMs = Date.now() - clickStart;

  console.log(JSON.stringify({
    list_200_servers_ms: listMs, list_rows: rows - 1,
    server_page_first_load_bytes: firstLoad, server_page_requests: requests,
    console_1000_lines_per_s: { long_tasks_over_50ms: result.tasks.length, long_tasks_over_100ms: result.tasks.filter((d) => d > 100).length, longest_ms: Math.round(Math.max(0, ...result.tasks)), lines_in_page: result.lines, lines_at_start: before, last_line: result.last, pause_click_ms: clickMs },
  }, null, 2));
} finally {
  // The loud server's process does not name the data directory: stop it through the host.
  try {
    const loud = (await api('GET', '/servers?limit=1')).items[0];
    await api('POST', `/servers/${loud.id}/actions/stop`);
    for (let i = 0; i < 50 && (await api('GET', `/servers/${loud.id}`)).actual_state !== 'stopped'; i++) await sleep(200);
  } catch { /* never started */ }
  await browser?.close().catch(() => {});
  try { process.kill(-host.pid, 'SIGTERM'); } catch { /* gone */ }
  await sleep(1000);
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try { if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir)) process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
  }
  rmSync(dataDir, { recursive: true, force: true });
}
