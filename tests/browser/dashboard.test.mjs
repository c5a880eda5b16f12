// The dashboard as a user drives it: a real host with the demo's simulated games, Debian's
// chromium through playwright-core. Finds things by role and visible text. Screenshots of
// every page go to target/browser-screenshots/.
//
// Run: tests/browser/run.sh (builds nothing; uses target/debug or GARRISON_BIN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.GARRISON_BIN || join(root, 'target/debug/garrison');
const shots = join(root, 'target/browser-screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const NEW_PASSWORD = 'a-new-admin-password';

let host; let dataDir; let base; let browser; let context; let page;
const problems = [];

async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function apiAs(token, method, path, body) {
  const r = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function adminToken() {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: NEW_PASSWORD }),
  });
  return (await r.json()).token;
}

function watchPage(p, who) {
  p.on('pageerror', (e) => problems.push(`${who} page error: ${e.message}`));
  // Chromium logs every failed request; a 401 is the expected answer to a wrong password or
  // to asking who is signed in while nobody is.
  p.on('console', (m) => {
    if (m.type() !== 'error' || /Failed to load resource: .* 401/.test(m.text())) return;
    problems.push(`${who} console error: ${m.text()} (${m.location().url})`);
  });
  p.on('dialog', (d) => { problems.push(`${who} unexpected dialog: ${d.message()}`); d.dismiss(); });
}

async function shot(name, p = page) {
  await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function servers(token) {
  return (await apiAs(token, 'GET', '/servers')).items;
}

before(async () => {
  assert.ok(existsSync(bin), `${bin} is missing: build with cargo build -p garrison -p garrison-sim`);
  mkdirSync(shots, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'garrison-browser-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  host = spawn(bin, ['serve', '--demo', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`,
    '--metrics-interval', '1s', '--player-poll', '1s'], {
    env: { ...process.env, GARRISON_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'], detached: true,
  });
  host.stderr.on('data', () => {});
  await until('the host', async () => (await fetch(`${base}/api/v1/system/health`)).ok, 60000);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  context.setDefaultTimeout(20000);
  page = await context.newPage();
  watchPage(page, 'admin');
});

// Game servers outlive a host restart by design, so they are stopped through the API first.
async function stopGames() {
  let token = await adminToken().catch(() => null);
  if (!token) {
    const initial = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim();
    const r = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: initial }) });
    token = (await r.json()).token;
  }
  const list = await servers(token);
  for (const s of list) await apiAs(token, 'POST', `/servers/${s.id}/actions/stop`).catch(() => {});
  await until('the games to stop', async () => (await servers(token)).every((s) => ['stopped', 'unmanaged', 'crashed'].includes(s.actual_state)), 30000);
}

after(async () => {
  await browser?.close().catch(() => {});
  if (host && host.exitCode === null) await stopGames().catch((e) => console.error(`stopping the games: ${e.message}`));
  if (host && host.exitCode === null) {
    try { process.kill(-host.pid, 'SIGTERM'); } catch { /* gone */ }
    await new Promise((r) => { const t = setTimeout(r, 5000); host.once('exit', () => { clearTimeout(t); r(); }); });
    try { process.kill(-host.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  // Games the host could not stop (a failed test may leave it without a session): ended by
  // their process ids, found by the scratch data directory in their command lines.
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir)) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone or not ours */ }
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('sign in: a wrong password is refused, the first admin must choose a password', async () => {
  await page.goto(`${base}/servers/1/console`);
  await page.getByRole('heading', { name: 'Sign in to Garrison' }).waitFor();
  assert.match(page.url(), /\/login\?next=%2Fservers%2F1%2Fconsole/);
  await shot('login');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
  const initial = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim();
  await page.getByLabel('Password').fill(initial);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Choose your password' }).waitFor();
  await shot('choose-password');
  await page.getByLabel('Current password').fill(initial);
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('New password again').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Save password' }).click();
  // Back where the user wanted to go.
  await page.getByRole('log', { name: 'Console output' }).waitFor();
  assert.match(page.url(), /\/servers\/1\/console$/);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'garrison_session');
  assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '', 'page scripts see no credential');
});

test('the server list updates live when a server stops', async () => {
  await page.goto(`${base}/servers`);
  await page.getByRole('heading', { name: 'Servers' }).waitFor();
  const token = await adminToken();
  const list = await servers(token);
  assert.equal(list.length, 2);
  const arma = list.find((s) => s.adapter === 'arma3');
  const row = page.getByRole('row').filter({ hasText: arma.name });
  await row.getByText('running', { exact: true }).waitFor({ timeout: 60000 });
  await until('player counts', async () => (await row.getByRole('cell').nth(3).innerText()).trim() !== '—', 30000);
  await shot('servers');
  await row.getByRole('button', { name: `Stop ${arma.name}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Stop' }).click();
  await row.getByText('stopped', { exact: true }).waitFor({ timeout: 60000 });
  await shot('servers-stopped');
  await row.getByRole('button', { name: `Start ${arma.name}` }).click();
  await row.getByText('running', { exact: true }).waitFor({ timeout: 60000 });
});

test('the console shows new lines and sends a command', async () => {
  const token = await adminToken();
  const l4d2 = (await servers(token)).find((s) => s.adapter === 'l4d2');
  await page.goto(`${base}/servers/${l4d2.id}/console`);
  const log = page.getByRole('log', { name: 'Console output' });
  await until('log lines', async () => (await log.locator('.line').count()) > 0);
  const before = await log.locator('.line').count();
  await until('new log lines', async () => (await log.locator('.line').count()) > before, 30000);
  await page.getByLabel('Console command').fill('status');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.reply').filter({ hasText: 'status' }).waitFor();
  await shot('console');
  // The command is kept in the history: ↑ brings it back.
  await page.getByLabel('Console command').press('ArrowUp');
  assert.equal(await page.getByLabel('Console command').inputValue(), 'status');
});

test('kick a player and see them leave', async () => {
  const token = await adminToken();
  const l4d2 = (await servers(token)).find((s) => s.adapter === 'l4d2');
  await page.goto(`${base}/servers/${l4d2.id}/players`);
  const kick = page.getByRole('button', { name: /^Kick / }).first();
  await kick.waitFor({ timeout: 60000 });
  const name = (await kick.getAttribute('aria-label')).slice('Kick '.length);
  await shot('players');
  await kick.click();
  await page.getByRole('dialog').getByLabel('Reason').fill('browser test');
  await page.getByRole('dialog').getByRole('button', { name: 'Kick' }).click();
  await page.getByRole('status').filter({ hasText: `${name} was kicked.` }).waitFor();
  await until(`${name} to leave`, async () => (await page.getByRole('button', { name: `Kick ${name}`, exact: true }).count()) === 0, 30000);
});

test('ban an identity and lift the ban', async () => {
  const token = await adminToken();
  const l4d2 = (await servers(token)).find((s) => s.adapter === 'l4d2');
  await page.goto(`${base}/servers/${l4d2.id}/bans`);
  await page.getByRole('heading', { name: 'Add a ban' }).waitFor();
  await page.getByLabel('Identity').fill('STEAM_1:0:424242');
  await page.getByLabel('Reason').fill('browser test ban');
  await page.getByRole('button', { name: 'Add ban' }).click();
  const row = page.getByRole('row').filter({ hasText: 'STEAM_1:0:424242' });
  await row.waitFor();
  await shot('bans');
  await row.getByRole('button', { name: /^Lift ban/ }).click();
  await page.getByRole('status').filter({ hasText: 'lifted' }).waitFor();
  await until('the ban to go', async () => (await row.count()) === 0);
});

test('a config value out of range is refused at the field, a valid one is saved', async () => {
  const token = await adminToken();
  const arma = (await servers(token)).find((s) => s.adapter === 'arma3');
  await page.goto(`${base}/servers/${arma.id}/config`);
  const number = page.locator('form.config input[type=number]').first();
  await number.waitFor();
  const id = await number.getAttribute('id');
  const max = Number(await number.getAttribute('max'));
  await number.fill(String(max + 1));
  const error = page.locator(`#${id}-error`);
  await error.waitFor();
  assert.match(await error.innerText(), /between/);
  assert.equal(await number.getAttribute('aria-invalid'), 'true');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('alert').filter({ hasText: 'Some fields need attention.' }).waitFor();
  await shot('config-invalid');
  await number.fill(String(max));
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'apply at the next start' }).waitFor();
  await shot('config');
  const stored = await apiAs(token, 'GET', `/servers/${arma.id}/config`);
  assert.equal(stored.settings[id.replace(/^field-/, '')], max);
});

test("a job's log streams", async () => {
  const token = await adminToken();
  const arma = (await servers(token)).find((s) => s.adapter === 'arma3');
  await page.goto(`${base}/servers/${arma.id}/jobs`);
  const button = page.getByRole('button', { name: /^Log of job / }).first();
  await button.click();
  const log = page.getByRole('log', { name: /^Log of job / });
  await until('job log lines', async () => (await log.locator('.line').count()) > 0, 20000);
  await shot('jobs');
});

test('the other tabs render: overview graphs, events, settings', async () => {
  const token = await adminToken();
  const arma = (await servers(token)).find((s) => s.adapter === 'arma3');
  await page.goto(`${base}/servers/${arma.id}`);
  await page.getByRole('img', { name: /CPU % over time/ }).waitFor({ timeout: 30000 });
  await shot('overview');
  // The system's dark preference is followed.
  await page.emulateMedia({ colorScheme: 'dark' });
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(background, 'rgb(246, 247, 249)');
  await shot('overview-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('link', { name: 'Events' }).click();
  assert.match(page.url(), /\/events$/);
  await page.getByLabel('Type').waitFor();
  await shot('events');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Name').waitFor();
  await shot('settings');
});

test('a hostile server name renders as text', async () => {
  const token = await adminToken();
  const l4d2 = (await servers(token)).find((s) => s.adapter === 'l4d2');
  const hostile = '<img src=x onerror=alert(1)>';
  await apiAs(token, 'PATCH', `/servers/${l4d2.id}`, { name: hostile });
  await page.goto(`${base}/servers`);
  await page.getByRole('link', { name: hostile }).waitFor();
  assert.equal(await page.locator('img').count(), 0);
  await page.getByRole('link', { name: hostile }).click();
  await page.getByRole('heading', { name: hostile }).waitFor();
  await shot('hostile-name');
});

test("a viewer's page has no start or stop buttons", async () => {
  const token = await adminToken();
  execFileSync(bin, ['user', 'create', 'viewer', '--role', 'viewer', '--data-dir', dataDir], {
    env: { ...process.env, GARRISON_PASSWORD: 'viewer-password' }, stdio: 'ignore',
  });
  const users = await apiAs(token, 'GET', '/users');
  const viewer = (users.items || users).find((u) => u.username === 'viewer');
  const arma = (await servers(token)).find((s) => s.adapter === 'arma3');
  await apiAs(token, 'PUT', `/users/${viewer.id}/grants`, { server_id: arma.id, role: 'viewer' });
  const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  other.setDefaultTimeout(20000);
  const p = await other.newPage();
  watchPage(p, 'viewer');
  await p.goto(`${base}/login`);
  await p.getByLabel('Username').fill('viewer');
  await p.getByLabel('Password').fill('viewer-password');
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('link', { name: arma.name }).waitFor();
  assert.equal(await p.getByRole('row').count(), 2, 'one server row and the header');
  assert.equal(await p.getByRole('button', { name: /^(Start|Stop|Restart) / }).count(), 0);
  await p.getByRole('link', { name: arma.name }).click();
  await p.getByRole('heading', { name: arma.name }).waitFor();
  assert.equal(await p.getByRole('button', { name: /^(Start|Stop|Restart|Kill) / }).count(), 0);
  assert.equal(await p.getByRole('link', { name: 'Settings' }).count(), 0);
  await shot('viewer', p);
  await p.getByRole('button', { name: 'Sign out' }).click();
  await p.getByRole('heading', { name: 'Sign in to Garrison' }).waitFor();
  await other.close();
});

test('at 390 px wide nothing scrolls sideways', async () => {
  const token = await adminToken();
  const arma = (await servers(token)).find((s) => s.adapter === 'arma3');
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  watchPage(phone, 'phone');
  for (const [name, path] of [['servers', '/servers'], ['console', `/servers/${arma.id}/console`], ['players', `/servers/${arma.id}/players`], ['config', `/servers/${arma.id}/config`]]) {
    await phone.goto(`${base}${path}`);
    await phone.locator('main h1').waitFor();
    assert.equal(await phone.getByRole('heading', { name: 'Sign in to Garrison' }).count(), 0);
    if (name !== 'servers') await phone.getByRole('navigation', { name: 'Server' }).waitFor();
    await phone.waitForTimeout(500);
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    await shot(`phone-${name}`, phone);
    assert.ok(width <= 390, `${path} is ${width} px wide`);
  }
  await phone.close();
});

test('the host sends its security headers', async () => {
  const r = await fetch(`${base}/servers/1/console`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-security-policy'), /default-src 'self'/);
  assert.match(r.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  const api = await fetch(`${base}/api/v1/system/health`);
  assert.equal(api.headers.get('x-content-type-options'), 'nosniff');
  // A cookie request from another site is refused.
  const forged = await fetch(`${base}/api/v1/servers/1/actions/stop`, {
    method: 'POST', headers: { cookie: 'garrison_session=x', origin: 'http://evil.example', 'content-type': 'application/json' }, body: '{}',
  });
  assert.equal(forged.status, 403);
});

test('no page error or console error anywhere', () => {
  assert.deepEqual(problems, []);
});
