// One form field per schema kind (text, multiline, secret, integer, flag, choice, list, port,
// table), with the checks the schema allows in the page. `check(field, value)` says what is
// wrong with a value, or null. A setting left unset takes the adapter's default: the form
// shows it (a flag or a choice as chosen, text and numbers greyed as a placeholder, with
// "Default: …" after the help) without saving it.
import { html } from '../html.js';

export function check(field, value) {
  const k = field.kind;
  const empty = value === undefined || value === null || value === '' || (Array.isArray(value) && !value.length);
  if (k.type === 'secret') return null;
  if (empty) return field.required ? 'Required.' : null;
  if (k.type === 'integer' || k.type === 'port') {
    const n = Number(value);
    const [min, max] = k.type === 'port' ? [1, 65535] : [k.min, k.max];
    if (!Number.isInteger(n)) return 'Must be a whole number.';
    if (n < min || n > max) return `Must be between ${min} and ${max}.`;
  }
  if (k.type === 'text' && k.max_length && String(value).length > k.max_length) return `At most ${k.max_length} characters.`;
  if (k.type === 'list' && k.max_items && value.length > k.max_items) return `At most ${k.max_items} entries.`;
  if (k.type === 'choice' && !k.options.some((o) => o.value === value)) return 'Choose one of the options.';
  return null;
}

export function Field({ field, value, error, onChange }) {
  const id = `field-${field.key}`;
  const k = field.kind;
  const unset = value === undefined || value === null;
  const fallback = unset && field.default !== undefined && field.default !== null ? field.default : undefined;
  const placeholder = fallback === undefined || typeof fallback === 'object' ? undefined : String(fallback);
  const shown = fallback === undefined || k.type === 'secret' ? null : describe(field, fallback);
  const described = [(field.help || shown) && `${id}-help`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  const common = { id, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': described };
  let input;
  if (k.type === 'flag') {
    input = html`<input type="checkbox" ...${common} checked=${!!(unset ? fallback : value)} onChange=${(e) => onChange(e.currentTarget.checked)} />`;
  } else if (k.type === 'integer' || k.type === 'port') {
    input = html`<input type="number" ...${common} min=${k.type === 'port' ? 1 : k.min} max=${k.type === 'port' ? 65535 : k.max}
      placeholder=${placeholder} value=${value ?? ''} onInput=${(e) => { const v = e.currentTarget.value; onChange(v === '' ? null : Number(v)); }} />`;
  } else if (k.type === 'choice') {
    input = html`<select ...${common} value=${value ?? fallback ?? ''} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${!field.required && html`<option value="">—</option>`}
      ${k.options.map((o) => html`<option value=${o.value}>${o.label}</option>`)}</select>`;
  } else if (k.type === 'secret') {
    input = html`<${Secret} common=${common} label=${field.label} value=${value} onChange=${onChange} />`;
  } else if (k.type === 'list') {
    input = html`<textarea ...${common} rows="3" placeholder=${Array.isArray(fallback) && fallback.length ? fallback.join('\n') : k.item_hint || 'One entry per line'}
      value=${(value || []).join('\n')} onInput=${(e) => onChange(e.currentTarget.value.split('\n').filter((l) => l.trim() !== ''))}></textarea>`;
  } else if (k.type === 'table') {
    input = html`<${Table} field=${field} rows=${value || (Array.isArray(fallback) ? fallback : [])} onChange=${onChange} />`;
  } else if (k.multiline) {
    input = html`<textarea ...${common} rows="4" maxlength=${k.max_length || undefined} placeholder=${placeholder} value=${value ?? ''} onInput=${(e) => onChange(e.currentTarget.value)}></textarea>`;
  } else {
    input = html`<input ...${common} maxlength=${k.max_length || undefined} placeholder=${placeholder} value=${value ?? ''} onInput=${(e) => onChange(e.currentTarget.value)} />`;
  }
  return html`<div class=${`field field-${k.type}`}>
    <label for=${id}>${field.label}${field.required ? ' *' : ''}</label>
    ${input}
    ${(field.help || shown) && html`<p class="help" id=${`${id}-help`}>${field.help}${shown && html` <span class="default">Default: ${shown}.</span>`}</p>`}
    ${error && html`<p class="error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

// The default as people read it: a choice by its label, a flag as on/off, a list by its entries.
function describe(field, value) {
  const k = field.kind;
  if (k.type === 'flag') return value ? 'on' : 'off';
  if (k.type === 'choice') return k.options.find((o) => o.value === value)?.label ?? String(value);
  if (Array.isArray(value)) return value.length ? (k.type === 'table' ? `${value.length} rows` : value.join(', ')) : 'none';
  if (typeof value === 'object') return null;
  return String(value);
}

// A secret is never shown: "set" / "not set", with "Replace" and "Clear". The value sent back
// is the mask (kept), a new string, or "" (cleared).
function Secret({ common, label, value, onChange }) {
  const replacing = typeof value === 'string' && value !== '';
  const cleared = value === '';
  const isSet = value && typeof value === 'object' && value.set;
  if (replacing || value?.replacing) {
    return html`<span class="secret"><input type="password" autocomplete="new-password" ...${common}
      value=${typeof value === 'string' ? value : ''} onInput=${(e) => onChange(e.currentTarget.value || { replacing: true })} />
      <button type="button" aria-label=${`Keep the stored ${label}`} onClick=${() => onChange({ set: isSet })}>Keep</button></span>`;
  }
  return html`<span class="secret"><span id=${common.id}>${cleared ? 'will be cleared' : isSet ? 'set' : 'not set'}</span>
    <button type="button" aria-label=${`Replace ${label}`} onClick=${() => onChange({ replacing: true })}>Replace</button>
    ${isSet && html`<button type="button" aria-label=${`Clear ${label}`} onClick=${() => onChange('')}>Clear</button>`}</span>`;
}

function Table({ field, rows, onChange }) {
  const columns = field.kind.columns;
  const set = (i, key, v) => onChange(rows.map((r, j) => (j === i ? { ...r, [key]: v } : r)));
  const cell = (row, i, c) => {
    const label = `${field.label} row ${i + 1} ${c.label}`;
    if (c.kind.type === 'flag') return html`<input type="checkbox" aria-label=${label} checked=${!!row[c.key]} onChange=${(e) => set(i, c.key, e.currentTarget.checked)} />`;
    if (c.kind.type === 'integer') return html`<input type="number" aria-label=${label} min=${c.kind.min} max=${c.kind.max} value=${row[c.key] ?? ''} onInput=${(e) => set(i, c.key, Number(e.currentTarget.value))} />`;
    if (c.kind.type === 'choice') return html`<select aria-label=${label} value=${row[c.key] ?? ''} onChange=${(e) => set(i, c.key, e.currentTarget.value)}>${c.kind.options.map((o) => html`<option value=${o.value}>${o.label}</option>`)}</select>`;
    return html`<input aria-label=${label} value=${row[c.key] ?? ''} onInput=${(e) => set(i, c.key, e.currentTarget.value)} />`;
  };
  return html`<div class="table-wrap"><table class="field-table">
    <thead><tr>${columns.map((c) => html`<th scope="col">${c.label}</th>`)}<th><span class="sr-only">Remove</span></th></tr></thead>
    <tbody>${rows.map((row, i) => html`<tr>${columns.map((c) => html`<td>${cell(row, i, c)}</td>`)}
      <td><button type="button" aria-label=${`Remove row ${i + 1} of ${field.label}`} onClick=${() => onChange(rows.filter((_, j) => j !== i))}>×</button></td></tr>`)}</tbody>
  </table><button type="button" aria-label=${`Add a row to ${field.label}`} onClick=${() => onChange([...rows, {}])}>Add row</button></div>`;
}
