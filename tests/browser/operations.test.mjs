// The dashboard when things go wrong or get drastic, as a user meets it: too many wrong
// passwords, a session revoked while a page is open, live updates interrupted and resumed,
// a game that crashes and is restarted, kill and delete with their confirmations, secrets and
// tables in the settings form, and how long a game has been up. A real host with the demo's
// simulated games (its own, apart from dashboard.test.mjs); Debian's chromium. Screenshots go
// to target/browser-screenshots/.
//
// Run: tests/browser/run.sh (builds nothing; uses target/debug or GARRISON_BIN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { Host, bin, openBrowser, shot as shotOf, until, watchPage as watch } from './harness.mjs';

const PASSWORD = 'operations-admin-password';
const SIMULATOR = process.env.GARRISON_SIM || join(dirname(bin), 'garrison-sim');

let host; let base; let browser; let context; let page;
const problems = [];

const api = (token, method, path, body) => host.api(token, method, path, body);
const adminToken = () => host.login('admin', PASSWORD);
const watchPage = (p, who) => watch(p, who, problems);
const shot = (name, p = page) => shotOf(p, name);
const serverOf = async (adapter) => (await host.servers(await adminToken())).find((s) => s.adapter === adapter);
const stateOf = async (id) => (await api(await adminToken(), 'GET', `/servers/${id}`)).actual_state;
const banner = (p) => p.getByRole('status').filter({ hasText: 'Live updates interrupted' });

async function signIn(p, username, password) {
  await p.getByLabel('Username').fill(username);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

before(async () => {
  host = await Host.start();
  base = host.base;
  // The generated password is changed through the API: dashboard.test.mjs covers choosing it.
  const initial = host.initialPassword();
  const token = await host.login('admin', initial);
  await api(token, 'POST', '/auth/password', { current_password: initial, new_password: PASSWORD });
  const admin = await adminToken();
  await api(admin, 'POST', '/users', { username: 'locked', password: 'locked-password', role: 'viewer' });
  await until('the demo games to run', async () => (await host.servers(admin)).every((s) => s.actual_state === 'running'), 60000);
  ({ browser, context, page } = await openBrowser(problems));
});

after(async () => {
  await browser?.close().catch(() => {});
  await host?.stop(await adminToken().catch(() => null));
});

test('too many wrong passwords: the sign-in page says how long to wait', async () => {
  await page.goto(`${base}/servers`);
  await page.getByRole('heading', { name: 'Sign in to Garrison' }).waitFor();
  const alert = page.getByRole('alert');
  // Five failures are free; each is told as a wrong password.
  for (let i = 1; i <= 5; i++) {
    await signIn(page, 'locked', `wrong-password-${i}`);
    await alert.filter({ hasText: 'Wrong username or password.' }).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
  }
  // The sixth is not even checked: 429 with Retry-After, shown as the wait.
  await signIn(page, 'locked', 'locked-password');
  const wait = alert.filter({ hasText: /Too many failed sign-ins\. Try again in \d+ seconds\./ });
  await wait.waitFor();
  const seconds = Number((await wait.innerText()).match(/in (\d+) seconds/)[1]);
  assert.ok(seconds > 0 && seconds <= 30, `${seconds} s`);
  await shot('login-too-many');
  assert.equal(await page.getByRole('heading', { name: 'Sign in to Garrison' }).count(), 1);
});

test('the server page says how long the game has been up, and it ticks', async () => {
  await signIn(page, 'admin', PASSWORD);
  await page.getByRole('heading', { name: 'Servers' }).waitFor();
  const arma = await serverOf('arma3');
  assert.ok(arma.started_at, 'a running server says when its game started');
  // A page with its own clock (a context's pages share one), so hours can pass in a moment.
  const own = await browser.newContext({ viewport: { width: 1440, height: 900 }, storageState: await context.storageState() });
  own.setDefaultTimeout(20000);
  const p = await own.newPage();
  watchPage(p, 'uptime');
  await p.clock.install();
  await p.goto(`${base}/servers/${arma.id}`);
  const head = p.locator('.server-head');
  await head.getByText(/^up \d+ (s|min)$/).waitFor();
  // 3 h 12 min 30 s after the game started.
  const elapsed = (await p.evaluate(() => Date.now())) - new Date(arma.started_at).getTime();
  await p.clock.fastForward(((3 * 60 + 12) * 60 + 30) * 1000 - elapsed);
  await head.getByText('up 3 h 12 min', { exact: true }).waitFor();
  await shot('server-uptime', p);
  await p.clock.fastForward(60 * 1000);
  await head.getByText('up 3 h 13 min', { exact: true }).waitFor();
  await own.close();
});

test('kill asks first, then ends the game at once', async () => {
  const arma = await serverOf('arma3');
  await page.goto(`${base}/servers/${arma.id}`);
  const head = page.locator('.server-head');
  await head.getByText('running', { exact: true }).waitFor();
  await page.getByRole('button', { name: `Kill ${arma.name}` }).click();
  const dialog = page.getByRole('dialog', { name: `Kill ${arma.name}?` });
  await dialog.getByText('unsaved game state is lost').waitFor();
  await shot('kill-confirm');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.waitForTimeout(500);
  assert.equal(await stateOf(arma.id), 'running', 'cancelled: nothing happened');
  await page.getByRole('button', { name: `Kill ${arma.name}` }).click();
  await dialog.getByRole('button', { name: 'Kill' }).click();
  await head.getByText('stopped', { exact: true }).waitFor({ timeout: 30000 });
  assert.equal(await stateOf(arma.id), 'stopped');
  const jobs = await api(await adminToken(), 'GET', `/jobs?server_id=${arma.id}`);
  assert.ok(jobs.items.some((j) => j.kind === 'kill' && j.state === 'succeeded'), 'a kill job ran');
  await shot('killed');
  // No uptime without a game.
  assert.equal(await head.getByText(/^up /).count(), 0);
});

test('a crashing game shows "crashed, restarting 2/3", then that the host gave up', async () => {
  const token = await adminToken();
  const name = 'Crashy (simulated)';
  // The simulator as a generic program that crashes 3 s after every start with exit code 3;
  // the default policy allows 3 restarts in 10 minutes.
  await api(token, 'POST', '/servers', {
    name, adapter: 'generic',
    settings: { executable: SIMULATOR, args: ['arma3', '--crash-after', '3', '--exit-code', '3'] },
  });
  await page.goto(`${base}/servers`);
  const row = page.getByRole('row').filter({ hasText: name });
  await row.getByRole('button', { name: `Start ${name}` }).click();
  await row.getByText('crashed, restarting 1/3', { exact: true }).waitFor({ timeout: 30000 });
  await row.getByText('running', { exact: true }).waitFor({ timeout: 30000 });
  await row.getByText('crashed, restarting 2/3', { exact: true }).waitFor({ timeout: 30000 });
  await shot('servers-crashed-restarting');
  await page.getByRole('link', { name }).click();
  const head = page.locator('.server-head');
  await head.getByText('crashed, restarting 3/3', { exact: true }).waitFor({ timeout: 30000 });
  await head.getByText('exited with code 3 unexpectedly').waitFor();
  await shot('server-crashed-restarting');
  // The fourth crash is one too many: it stays crashed and says why.
  await head.getByText('gave up after 3 restarts in 10 min').waitFor({ timeout: 30000 });
  await head.getByText('crashed', { exact: true }).waitFor();
  await shot('server-gave-up');
  const server = (await host.servers(token)).find((s) => s.name === name);
  assert.deepEqual(server.restarts, { count: 3, max: 3, restarting: false });
});

test('delete asks for the name, then the server leaves the list', async () => {
  const name = 'Crashy (simulated)';
  const server = (await host.servers(await adminToken())).find((s) => s.name === name);
  await page.goto(`${base}/servers/${server.id}/settings`);
  await page.getByRole('button', { name: 'Delete server' }).click();
  const dialog = page.getByRole('dialog', { name: `Delete ${name}?` });
  const confirm = dialog.getByRole('button', { name: 'Delete for good' });
  assert.ok(await confirm.isDisabled(), 'nothing typed yet');
  await dialog.getByLabel("Type the server's name to confirm").fill('Crashy');
  assert.ok(await confirm.isDisabled(), 'a part of the name is not the name');
  await dialog.getByLabel("Type the server's name to confirm").fill(name);
  await shot('delete-confirm');
  assert.ok(await confirm.isEnabled());
  await confirm.click();
  await page.getByRole('heading', { name: 'Servers' }).waitFor();
  assert.match(page.url(), /\/servers$/);
  // The delete job ends and the list drops the row without a reload.
  await until('the row to go', async () => (await page.getByRole('row').filter({ hasText: name }).count()) === 0, 30000);
  await shot('servers-after-delete');
  const left = await host.servers(await adminToken());
  assert.ok(!left.some((s) => s.name === name));
});

test('a secret in Config shows set or not set, and is replaced and cleared', async () => {
  const token = await adminToken();
  const l4d2 = await serverOf('l4d2');
  await page.goto(`${base}/servers/${l4d2.id}/config`);
  const field = page.locator('.field').filter({ has: page.locator('label', { hasText: /^Join password$/ }) });
  await field.getByText('not set', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Replace Join password' }).click();
  await page.getByLabel('Join password', { exact: true }).fill('s3cret-join-word');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'apply at the next start' }).waitFor();
  await field.getByText('set', { exact: true }).waitFor();
  await shot('config-secret-set');
  let stored = await api(token, 'GET', `/servers/${l4d2.id}/config`);
  assert.deepEqual(stored.settings.sv_password, { set: true });
  assert.ok(!JSON.stringify(stored).includes('s3cret-join-word'), 'a secret is never sent back');
  assert.ok(!(await page.content()).includes('s3cret-join-word'), 'nor kept in the page');

  await page.getByRole('button', { name: 'Clear Join password' }).click();
  await field.getByText('will be cleared', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await field.getByText('not set', { exact: true }).waitFor();
  stored = await api(token, 'GET', `/servers/${l4d2.id}/config`);
  assert.deepEqual(stored.settings.sv_password, { set: false });
  // The other secrets were kept.
  assert.deepEqual(stored.settings.rcon_password, { set: true });
});

test('a table field in Config: add a row, save, remove it, save', async () => {
  const token = await adminToken();
  const l4d2 = await serverOf('l4d2');
  await page.goto(`${base}/servers/${l4d2.id}/config`);
  const add = page.getByRole('button', { name: 'Add a row to Extra console variables' });
  await page.locator('details', { hasText: 'Extra console variables' }).locator('summary').click();
  await add.click();
  await page.getByLabel('Extra console variables row 1 Variable').fill('sv_allow_lobby_connect_only');
  await page.getByLabel('Extra console variables row 1 Value').fill('0');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'apply at the next start' }).waitFor();
  await shot('config-table');
  let stored = await api(token, 'GET', `/servers/${l4d2.id}/config`);
  assert.deepEqual(stored.settings.extra_cvars, [{ name: 'sv_allow_lobby_connect_only', value: '0' }]);
  // Shown as stored after the save.
  assert.equal(await page.getByLabel('Extra console variables row 1 Variable').inputValue(), 'sv_allow_lobby_connect_only');

  await page.getByRole('button', { name: 'Remove row 1 of Extra console variables' }).click();
  assert.equal(await page.getByLabel('Extra console variables row 1 Variable').count(), 0);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'apply at the next start' }).waitFor();
  stored = await api(token, 'GET', `/servers/${l4d2.id}/config`);
  assert.deepEqual(stored.settings.extra_cvars, []);
});

test('live updates: resync reloads through REST; a lost connection is shown, retried and caught up', async () => {
  const token = await adminToken();
  const l4d2 = await serverOf('l4d2');
  const row = (p) => p.getByRole('row').filter({ hasText: l4d2.name });
  // Between the page and the host: messages can be held back, and the host's side closed.
  let muted = false;
  let refuse = false;
  const sockets = [];
  const p = await context.newPage();
  watchPage(p, 'live');
  await p.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
    if (refuse) { ws.close({ code: 1011, reason: 'the host is away' }); return; }
    const server = ws.connectToServer();
    server.onMessage((m) => { if (!muted) ws.send(m); });
    sockets.push({ ws, server });
  });
  await p.goto(`${base}/servers`);
  await row(p).getByText('running', { exact: true }).waitFor();

  // Updates the page missed: it shows the old state until told to resync.
  muted = true;
  await api(token, 'POST', `/servers/${l4d2.id}/actions/stop`);
  await until('the game to stop', async () => (await stateOf(l4d2.id)) === 'stopped');
  await p.waitForTimeout(1000);
  assert.equal(await row(p).getByText('running', { exact: true }).count(), 1, 'no update got through');
  muted = false;
  sockets.at(-1).ws.send(JSON.stringify({ type: 'resync', missed: 3 }));
  await row(p).getByText('stopped', { exact: true }).waitFor();

  // The host closes the connection and does not take new ones for a while.
  refuse = true;
  sockets.at(-1).server.close();
  await banner(p).waitFor();
  await shot('live-interrupted', p);
  await api(token, 'POST', `/servers/${l4d2.id}/actions/start`);
  await until('the game to run', async () => (await stateOf(l4d2.id)) === 'running', 60000);
  assert.equal(await row(p).getByText('stopped', { exact: true }).count(), 1, 'nothing arrived while away');
  // Back: the banner goes and the page reloads what happened meanwhile.
  refuse = false;
  await banner(p).waitFor({ state: 'detached', timeout: 30000 });
  await row(p).getByText('running', { exact: true }).waitFor();
  await shot('live-resumed', p);
  await p.close();
});

test('a session revoked while a page is open returns to sign-in, keeping the page', async () => {
  const token = await adminToken();
  const arma = await serverOf('arma3');
  const user = await api(token, 'POST', '/users', { username: 'revoked', password: 'revoked-password', role: 'viewer' });
  await api(token, 'PUT', `/users/${user.id}/grants`, { server_id: arma.id, role: 'viewer' });
  const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  other.setDefaultTimeout(20000);
  const p = await other.newPage();
  watchPage(p, 'revoked');
  await p.goto(`${base}/servers/${arma.id}/console`);
  await signIn(p, 'revoked', 'revoked-password');
  await p.getByRole('log', { name: 'Console output' }).waitFor();
  // An administrator resets the password: the user's sessions end at once. The page learns
  // it from the live connection (re-checked every 5 s), not from a click.
  await api(token, 'POST', `/users/${user.id}/password`, { password: 'another-password' });
  await p.getByRole('heading', { name: 'Sign in to Garrison' }).waitFor({ timeout: 20000 });
  assert.match(p.url(), new RegExp(`/login\\?next=%2Fservers%2F${arma.id}%2Fconsole$`));
  await p.getByRole('status').filter({ hasText: 'Your session has ended.' }).waitFor();
  await shot('revoked-sign-in', p);
  await signIn(p, 'revoked', 'another-password');
  await p.getByRole('log', { name: 'Console output' }).waitFor();
  assert.match(p.url(), new RegExp(`/servers/${arma.id}/console$`));
  await other.close();
});

test('no page error or console error anywhere', () => {
  assert.deepEqual(problems, []);
});
