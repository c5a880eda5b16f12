// A game's shared install from the Games page, as an administrator and a viewer meet it:
// the administrator installs it once for all the game's servers and follows the job's log
// until the page shows the build; a viewer sees the state and no buttons. A real host with
// the demo's games and a stand-in for SteamCMD (GARRISON_STEAMCMD) that "installs" a file and
// an app manifest naming a build. Screenshots go to target/browser-screenshots/.
//
// Run: tests/browser/run.sh (builds nothing; uses target/debug or GARRISON_BIN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Host, openBrowser, shot, until } from './harness.mjs';

const PASSWORD = 'runtimes-admin-password';
const VIEWER = 'runtimes-viewer-password';
const BUILD = '14912345';

// Reads the install directory and the app from its script ($2), puts a file and the app
// manifest there, and prints SteamCMD's progress and success lines.
const FAKE_STEAMCMD = `#!/bin/sh
dir=$(sed -n 's/^force_install_dir "\\(.*\\)"$/\\1/p' "$2")
app=$(sed -n 's/^app_update \\([0-9]*\\).*$/\\1/p' "$2")
mkdir -p "$dir/steamapps"
echo 'a dedicated server' > "$dir/server-binary"
printf '"AppState"\\n{\\n\\t"appid"\\t\\t"%s"\\n\\t"buildid"\\t\\t"${BUILD}"\\n}\\n' "$app" > "$dir/steamapps/appmanifest_$app.acf"
echo ' Update state (0x61) downloading, progress: 42.50 (425 / 1000)'
echo "Success! App '$app' fully installed."
`;

let host; let base; let browser; let page; let tools;
const problems = [];

const adminToken = () => host.login('admin', PASSWORD);

async function signIn(p, username, password) {
  await p.getByLabel('Username').fill(username);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

before(async () => {
  tools = mkdtempSync(join(tmpdir(), 'garrison-steamcmd-'));
  const fake = join(tools, 'steamcmd');
  writeFileSync(fake, FAKE_STEAMCMD);
  chmodSync(fake, 0o755);
  host = await Host.start({ env: { GARRISON_STEAMCMD: fake } });
  base = host.base;
  const initial = host.initialPassword();
  const token = await host.login('admin', initial);
  await host.api(token, 'POST', '/auth/password', { current_password: initial, new_password: PASSWORD });
  await host.api(await adminToken(), 'POST', '/users', { username: 'watcher', password: VIEWER, role: 'viewer' });
  ({ browser, page } = await openBrowser(problems));
});

after(async () => {
  await browser?.close().catch(() => {});
  await host?.stop(await adminToken().catch(() => null));
  if (tools) rmSync(tools, { recursive: true, force: true });
});

test('an administrator installs a game for all its servers and follows the log', async () => {
  await page.goto(`${base}/servers`);
  await signIn(page, 'admin', PASSWORD);
  await page.getByRole('heading', { name: 'Servers' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Games' }).click();
  await page.getByRole('heading', { name: 'Games' }).waitFor();
  const row = page.getByRole('row').filter({ hasText: 'Left 4 Dead 2' });
  await row.getByText('not installed').waitFor();

  await row.getByRole('button', { name: 'Install Left 4 Dead 2' }).click();
  const log = page.getByRole('log', { name: /^Log of job \d+$/ });
  await log.getByText('fully installed').waitFor();
  await log.getByText(`is installed at build ${BUILD}`).waitFor();
  await log.getByText('The job has ended.').waitFor();
  await row.getByText(`build ${BUILD}`).waitFor();
  await row.getByText('install succeeded').waitFor();
  await row.getByRole('button', { name: 'Update Left 4 Dead 2' }).waitFor();
  assert.ok(existsSync(join(host.dataDir, 'runtimes/l4d2/server-binary')), 'the files are in the shared install');
  await shot(page, 'games-runtime-installed');

  // The update is followed the same way; the row says which job ran last.
  await row.getByRole('button', { name: 'Update Left 4 Dead 2' }).click();
  await until('the update to succeed', async () => (await row.getByText('update succeeded').count()) === 1);
  assert.deepEqual(problems, []);
});

test('a viewer sees each game\'s install but cannot install', async () => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const p = await context.newPage();
  await p.goto(`${base}/adapters`);
  await signIn(p, 'watcher', VIEWER);
  await p.getByRole('heading', { name: 'Games' }).waitFor();
  const row = p.getByRole('row').filter({ hasText: 'Left 4 Dead 2' });
  await row.getByText(`build ${BUILD}`).waitFor();
  // Which contract each adapter was built against (the built-ins: the current one).
  await row.getByText('contract 0.2.0').waitFor();
  assert.equal(await p.getByRole('button', { name: /^(Install|Update) / }).count(), 0);
  assert.equal(await p.getByRole('button', { name: /^Log of job/ }).count(), 0);
  await shot(p, 'games-viewer');
  await context.close();
  assert.deepEqual(problems, []);
});
