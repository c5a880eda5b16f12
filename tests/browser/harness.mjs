// What every browser test file shares: a real host with the demo's simulated games on a free
// port, Debian's chromium through playwright-core, waiting, the API as a script would use it,
// page-error collection and screenshots (target/browser-screenshots/).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = process.env.GARRISON_BIN || join(root, 'target/debug/garrison');
export const shots = join(root, 'target/browser-screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

// Polls `fn` until it answers something truthy (errors count as "not yet").
export async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Page errors, console errors and unexpected dialogs of `p` go to `problems`.
export function watchPage(p, who, problems) {
  p.on('pageerror', (e) => problems.push(`${who} page error: ${e.message}`));
  // Chromium logs every failed request; a 401 is the expected answer to a wrong password or
  // to asking who is signed in while nobody is, a 429 to too many wrong passwords.
  p.on('console', (m) => {
    if (m.type() !== 'error' || /Failed to load resource: .* 401/.test(m.text())) return;
    if (/Failed to load resource: .* 429/.test(m.text()) && m.location().url.endsWith('/api/v1/auth/session')) return;
    problems.push(`${who} console error: ${m.text()} (${m.location().url})`);
  });
  p.on('dialog', (d) => { problems.push(`${who} unexpected dialog: ${d.message()}`); d.dismiss(); });
}

export async function shot(p, name) {
  await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
}

// `garrison serve --demo` on a free port with a scratch data directory.
// A browser with one desktop-sized page whose errors are collected into `problems`.
export async function openBrowser(problems, who = 'admin') {
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  watchPage(page, who, problems);
  return { browser, context, page };
}

export class Host {
  // `env`: variables added to the host's environment (e.g. `GARRISON_STEAMCMD`).
  static async start({ env = {} } = {}) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: build with ./scripts/build-bins.sh`);
    mkdirSync(shots, { recursive: true });
    const dataDir = mkdtempSync(join(tmpdir(), 'garrison-browser-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = spawn(bin, ['serve', '--demo', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`,
      '--metrics-interval', '1s', '--player-poll', '1s'], {
      env: { ...process.env, GARRISON_LOG: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true,
    });
    proc.stderr.on('data', () => {});
    const host = new Host(proc, dataDir, base);
    await until('the host', async () => (await fetch(`${base}/api/v1/system/health`)).ok, 60000);
    return host;
  }

  constructor(proc, dataDir, base) {
    this.proc = proc;
    this.dataDir = dataDir;
    this.base = base;
  }

  initialPassword() {
    return readFileSync(join(this.dataDir, 'initial-admin-password'), 'utf8').trim();
  }

  // A session token, or null when the password is wrong.
  async login(username, password) {
    const r = await fetch(`${this.base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    return r.ok ? (await r.json()).token : null;
  }

  async api(token, method, path, body) {
    const r = await fetch(`${this.base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async servers(token) {
    return (await this.api(token, 'GET', '/servers')).items;
  }

  // Stops the games through the API (they outlive a host restart by design), ends the host,
  // then kills any game it could not stop, found by the scratch directory in its command
  // line, and removes the directory. `token` is an administrator's (null: none works).
  async stop(token) {
    if (token && this.proc.exitCode === null) {
      try {
        for (const s of await this.servers(token)) await this.api(token, 'POST', `/servers/${s.id}/actions/stop`).catch(() => {});
        await until('the games to stop', async () => (await this.servers(token)).every((s) => ['stopped', 'unmanaged', 'crashed'].includes(s.actual_state)), 30000);
      } catch (e) { console.error(`stopping the games: ${e.message}`); }
    }
    if (this.proc.exitCode === null) {
      try { process.kill(-this.proc.pid, 'SIGTERM'); } catch { /* gone */ }
      await new Promise((r) => { const t = setTimeout(r, 5000); this.proc.once('exit', () => { clearTimeout(t); r(); }); });
      try { process.kill(-this.proc.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.dataDir)) process.kill(Number(pid), 'SIGKILL');
      } catch { /* gone or not ours */ }
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
