// The dashboard as a user drives it: a real host with the demo's simulated games, Debian's
// chromium through playwright-core. Finds things by role and visible text. Screenshots of
// every page go to target/browser-screenshots/.
//
// Run: tests/browser/run.sh (builds nothing; uses target/debug or GARRISON_BIN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Host, bin, openBrowser, shot as shotOf, until, watchPage as watch } from './harness.mjs';

const NEW_PASSWORD = 'a-new-admin-password';

let host; let dataDir; let base; let browser; let context; let page;
const problems = [];

const apiAs = (token, method, path, body) => host.api(token, method, path, body);
const adminToken = () => host.login('admin', NEW_PASSWORD);
const servers = (token) => host.servers(token);
const watchPage = (p, who) => watch(p, who, problems);
const shot = (name, p = page) => shotOf(p, name);

before(async () => {
  host = await Host.start();
  ({ dataDir, base } = host);
  ({ browser, context, page } = await openBrowser(problems));
});

after(async () => {
  await browser?.close().catch(() => {});
  // A failed test may leave the admin with the first password still.
  const token = (await adminToken().catch(() => null)) || (await host?.login('admin', host.initialPassword()).catch(() => null));
  await host?.stop(token);
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
  const initial = host.initialPassword();
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

test("unset settings show the game's defaults, and saving does not pin them", async () => {
  const token = await adminToken();
  const server = (await servers(token)).find((s) => s.adapter === 'l4d2') || (await servers(token))[0];
  const { schema } = await apiAs(token, 'GET', `/adapters/${server.adapter}`);
  const { settings } = await apiAs(token, 'GET', `/servers/${server.id}/config`);
  const unset = (f) => settings[f.key] === undefined || settings[f.key] === null;
  const flag = schema.find((f) => f.kind.type === 'flag' && f.default === true && unset(f) && !f.advanced);
  const number = schema.find((f) => ['integer', 'port'].includes(f.kind.type) && typeof f.default === 'number' && unset(f) && !f.advanced);
  assert.ok(flag || number, `the ${server.adapter} form has an unset field with a default`);
  await page.goto(`${base}/servers/${server.id}/config`);
  await page.locator('form.config').waitFor();
  if (flag) {
    assert.equal(await page.locator(`#field-${flag.key}`).isChecked(), true, `${flag.key} shows its default, on`);
    assert.match(await page.locator(`#field-${flag.key}-help`).innerText(), /Default: on\./);
  }
  if (number) {
    const input = page.locator(`#field-${number.key}`);
    assert.equal(await input.inputValue(), '', 'the value stays unset');
    assert.equal(await input.getAttribute('placeholder'), String(number.default));
    assert.match(await page.locator(`#field-${number.key}-help`).innerText(), new RegExp(`Default: ${number.default}\\.`));
  }
  await shot('config-defaults');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'apply at the next start' }).waitFor();
  const stored = (await apiAs(token, 'GET', `/servers/${server.id}/config`)).settings;
  for (const f of [flag, number].filter(Boolean)) {
    assert.ok(stored[f.key] === undefined || stored[f.key] === null, `${f.key} was not pinned to its default`);
  }
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
