// Keys: create (the secret is shown once, with a copy button), list, edit models/limits/budget/expiry, revoke.
// Everything goes through the keys plugin's admin API (/admin/keys).
import { dateInput, fmt, h, notice, replace } from '../dom.js'

const PERIODS = ['day', 'week', 'month', 'total']

export function mount(root, { api }) {
  const banner = h('div', { class: 'banners', id: 'keys-banner' })
  const secretBox = h('div', { id: 'new-key' })
  const list = h('div', { class: 'table-wrap', id: 'keys-list' })
  const createForm = keyForm({
    id: 'key-create', submitLabel: 'Create key',
    async onSubmit(values, form) {
      const created = await api('/admin/keys', { method: 'POST', body: payload(values, false) })
      form.reset()
      showSecret(created)
      await load()
    },
  })
  replace(root,
    h('div', { class: 'view-head' }, h('h2', {}, 'Keys'), h('button', { type: 'button', class: 'ghost', onclick: () => load() }, 'Refresh')),
    banner, secretBox,
    h('details', { class: 'panel', open: true }, h('summary', {}, 'New key'), createForm),
    list)

  function showSecret(created) {
    const value = h('code', { id: 'new-key-secret' }, created.key)
    const copy = h('button', {
      type: 'button', id: 'new-key-copy',
      async onclick() {
        const ok = await copyText(created.key)
        copy.textContent = ok ? 'Copied' : 'Select and copy it by hand'
      },
    }, 'Copy')
    replace(secretBox, h('div', { class: 'secret', role: 'status' },
      h('div', {}, h('strong', {}, `Key "${created.name}" created.`), ' Copy it now: this is the only time it is shown.'),
      h('div', { class: 'secret-row' }, value, copy),
      h('button', { type: 'button', class: 'ghost small', onclick: () => replace(secretBox) }, 'I have copied it')))
  }

  let seq = 0
  async function load() {
    const mine = ++seq
    try {
      const { data } = await api('/admin/keys')
      if (mine !== seq) return
      replace(banner)
      renderList(data)
    } catch (error) {
      if (mine !== seq || error.status === 401) return
      replace(list)
      replace(banner, error.status === 404
        ? notice('warn', h('strong', {}, 'The keys plugin is not configured: '), 'GET /admin/keys answers 404. Add keys() to the gateway config.')
        : notice('error', `Could not load keys: ${error.message}`))
    }
  }

  function renderList(keys) {
    if (keys.length === 0) return replace(list, notice('info', 'No keys yet.'))
    const sorted = [...keys].sort((a, b) => (a.status === 'active' ? 0 : 1) - (b.status === 'active' ? 0 : 1) || String(b.createdAt).localeCompare(String(a.createdAt)))
    replace(list, h('table', { class: 'data keys' },
      h('thead', {}, h('tr', {}, ['Name', 'Status', 'Models', 'Limits', 'Budget', 'Expires', 'Created', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, sorted.map((key) => keyRow(key)))))
  }

  function keyRow(key) {
    const readOnly = key.source === 'config' || key.status === 'revoked'
    const actions = h('td', { class: 'row-actions' })
    const tr = h('tr', { dataset: { id: key.id, name: key.name }, class: key.status !== 'active' ? 'inactive' : undefined },
      h('td', {}, h('div', {}, key.name), h('div', { class: 'muted small mono' }, key.id)),
      h('td', {}, h('span', { class: `status ${key.status === 'active' ? 'good' : 'bad'}` }, key.status), key.source === 'config' ? h('span', { class: 'tag' }, 'config') : null),
      h('td', {}, key.models?.length ? key.models.join(', ') : h('span', { class: 'muted' }, 'all')),
      h('td', {}, limitsText(key.limits)),
      h('td', {}, key.budget ? `${fmt.usd(key.budget.maxUSD)} / ${key.budget.period}` : h('span', { class: 'muted' }, 'none')),
      h('td', {}, key.expiresAt ? fmt.dateTime(key.expiresAt) : h('span', { class: 'muted' }, 'never')),
      h('td', {}, fmt.dateTime(key.createdAt)),
      actions)
    if (!readOnly) {
      const edit = h('button', { type: 'button', class: 'small', onclick: () => openEditor(tr, key) }, 'Edit')
      const revoke = h('button', { type: 'button', class: 'small danger', onclick: () => confirmRevoke(revoke, key) }, 'Revoke')
      actions.append(edit, revoke)
    }
    return tr
  }

  let armed
  function confirmRevoke(button, key) {
    if (armed !== button) {
      armed = button
      button.textContent = 'Confirm revoke'
      setTimeout(() => { if (armed === button) { armed = undefined; button.textContent = 'Revoke' } }, 5000)
      return
    }
    armed = undefined
    button.disabled = true
    api(`/admin/keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' })
      .then(() => { replace(banner, notice('info', `Key "${key.name}" revoked: it stops working at once.`)); return load() })
      .catch((error) => { button.disabled = false; replace(banner, notice('error', `Could not revoke: ${error.message}`)) })
  }

  function openEditor(tr, key) {
    if (tr.nextElementSibling?.classList.contains('editor')) return tr.nextElementSibling.remove()
    const form = keyForm({
      id: `key-edit-${key.id}`, submitLabel: 'Save', initial: key, editing: true,
      async onSubmit(values) {
        await api(`/admin/keys/${encodeURIComponent(key.id)}`, { method: 'PATCH', body: payload(values, true) })
        replace(banner, notice('info', `Key "${values.name}" updated.`))
        await load()
      },
      onCancel: () => editor.remove(),
    })
    const editor = h('tr', { class: 'editor' }, h('td', { colspan: 8 }, form))
    tr.after(editor)
  }

  load()
  return () => { seq++ }
}

function limitsText(limits) {
  if (!limits || Object.keys(limits).length === 0) return h('span', { class: 'muted' }, 'none')
  return [limits.rpm && `${fmt.int(limits.rpm)} rpm`, limits.tpm && `${fmt.int(limits.tpm)} tpm`, limits.maxConcurrent && `${limits.maxConcurrent} concurrent`].filter(Boolean).join(' · ')
}

/** The create/edit form. `onSubmit(values, form)` may throw an ApiError; its message is shown under the form. */
function keyForm({ id, submitLabel, initial = {}, editing = false, onSubmit, onCancel }) {
  const field = (name, label, input, hint) => h('label', { class: `field field-${name}` }, h('span', {}, label), input, hint ? h('small', { class: 'muted' }, hint) : null)
  const input = (name, attrs = {}) => h('input', { name, id: `${id}-${name}`, ...attrs })
  const periods = h('select', { name: 'period', id: `${id}-period` }, PERIODS.map((p) => h('option', { value: p, selected: p === (initial.budget?.period ?? 'month') }, p)))
  const error = h('div', { class: 'form-error' })
  const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel)
  const form = h('form', {
    class: 'key-form', id,
    async onsubmit(event) {
      event.preventDefault()
      const values = Object.fromEntries(new FormData(form))
      submit.disabled = true
      replace(error)
      try {
        await onSubmit(values, form)
      } catch (e) {
        if (e.status !== 401) replace(error, notice('error', e.message))
      } finally {
        submit.disabled = false
      }
    },
  },
  h('div', { class: 'form-grid' },
    field('name', 'Name', input('name', { required: true, maxlength: 100, value: initial.name ?? '', placeholder: 'e.g. ci-bot' })),
    field('models', 'Models', input('models', { value: initial.models?.join(', ') ?? '', placeholder: 'all models' }), 'comma-separated: names, aliases, globs like openai/*'),
    field('rpm', 'Requests / min', input('rpm', { type: 'number', min: 1, step: 1, value: initial.limits?.rpm ?? '' })),
    field('tpm', 'Tokens / min', input('tpm', { type: 'number', min: 1, step: 1, value: initial.limits?.tpm ?? '' })),
    field('maxConcurrent', 'Concurrent', input('maxConcurrent', { type: 'number', min: 1, step: 1, value: initial.limits?.maxConcurrent ?? '' })),
    field('maxUSD', 'Budget (USD)', input('maxUSD', { type: 'number', min: 0, step: 'any', value: initial.budget?.maxUSD ?? '' })),
    field('period', 'Budget period', periods),
    field('expires', 'Expires on', input('expires', { type: 'date', value: initial.expiresAt ? dateInput(Date.parse(initial.expiresAt)) : '' }))),
  h('div', { class: 'form-actions' }, submit, onCancel ? h('button', { type: 'button', class: 'ghost', onclick: onCancel }, 'Cancel') : null),
  error)
  if (editing) form.dataset.editing = 'true'
  return form
}

/** Form values as an admin API payload; on edit, an emptied field is sent as null (which clears it). */
function payload(values, editing) {
  const clear = editing ? null : undefined
  const number = (v) => (v === '' || v === undefined ? undefined : Number(v))
  const models = String(values.models ?? '').split(',').map((m) => m.trim()).filter(Boolean)
  const limits = Object.fromEntries(['rpm', 'tpm', 'maxConcurrent'].map((k) => [k, number(values[k])]).filter(([, v]) => v !== undefined))
  const maxUSD = number(values.maxUSD)
  const body = {
    name: String(values.name ?? '').trim(),
    models: models.length ? models : clear,
    limits: Object.keys(limits).length ? limits : clear,
    budget: maxUSD !== undefined ? { maxUSD, period: values.period } : clear,
    expiresAt: values.expires ? new Date(`${values.expires}T23:59:59`).toISOString() : clear,
  }
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined))
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    const area = document.createElement('textarea')
    area.value = text
    document.body.append(area)
    area.select()
    const ok = document.execCommand?.('copy') ?? false
    area.remove()
    return ok
  }
}
