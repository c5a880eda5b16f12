// Signing in, and the first administrator choosing their own password.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../html.js';
import * as api from '../api.js';
import { loadMe, sessionEnded } from '../app.js';

export function Login() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      await api.post('/auth/session', { username, password });
      await loadMe();
    } catch (e) {
      if (e.status === 429) setError(`Too many failed sign-ins. Try again in ${e.retryAfter || 'a few'} seconds.`);
      else if (e.status === 401) setError('Wrong username or password.');
      else setError(e.message);
    } finally {
      setBusy(false);
    }
  }
  return html`
    <main class="narrow">
      <h1>Sign in to Garrison</h1>
      ${sessionEnded.value && html`<p class="notice" role="status">Your session has ended. Sign in again to go on where you were.</p>`}
      <form onSubmit=${submit} class="card">
        <label for="login-user">Username</label>
        <input id="login-user" name="username" autocomplete="username" required
          value=${username} onInput=${(e) => setUsername(e.currentTarget.value)} />
        <label for="login-password">Password</label>
        <input id="login-password" name="password" type="password" autocomplete="current-password" required
          value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} />
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button type="submit" class="primary" disabled=${busy}>Sign in</button>
      </form>
      <p class="muted">The first start prints the <code>admin</code> password and writes it to${' '}<code>garrison-data/initial-admin-password</code>.</p>
    </main>`;
}

export function ChoosePassword() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [errors, setErrors] = useState({});
  async function submit(event) {
    event.preventDefault();
    if (next.length < 8) return setErrors({ new_password: 'At least 8 characters.' });
    if (next !== again) return setErrors({ again: 'The two passwords differ.' });
    try {
      await api.post('/auth/password', { current_password: current, new_password: next });
      await loadMe();
    } catch (e) {
      setErrors({
        current_password: e.field('current_password'),
        new_password: e.field('new_password'),
        form: e.errors.length ? '' : e.message,
      });
    }
  }
  const err = (name) => errors[name] && html`<p class="error" id=${`${name}-error`}>${errors[name]}</p>`;
  return html`
    <section class="narrow">
      <h1>Choose your password</h1>
      <p>You signed in with the password Garrison generated. Choose your own before going on.</p>
      <form onSubmit=${submit} class="card">
        <label for="pw-current">Current password</label>
        <input id="pw-current" type="password" autocomplete="current-password" required value=${current}
          aria-invalid=${!!errors.current_password} onInput=${(e) => setCurrent(e.currentTarget.value)} />
        ${err('current_password')}
        <label for="pw-new">New password</label>
        <input id="pw-new" type="password" autocomplete="new-password" required minlength="8" value=${next}
          aria-invalid=${!!errors.new_password} onInput=${(e) => setNext(e.currentTarget.value)} />
        ${err('new_password')}
        <label for="pw-again">New password again</label>
        <input id="pw-again" type="password" autocomplete="new-password" required value=${again}
          aria-invalid=${!!errors.again} onInput=${(e) => setAgain(e.currentTarget.value)} />
        ${err('again')}
        ${errors.form && html`<p class="error" role="alert">${errors.form}</p>`}
        <button type="submit" class="primary">Save password</button>
      </form>
    </section>`;
}
