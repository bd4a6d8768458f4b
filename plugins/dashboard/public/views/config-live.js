// Live config (the live() plugin), inside the Config view: the version in force, the config file's values
// beside the live overlay, an editor to apply a new overlay (checked whole by the gateway: a bad one is refused
// with the reason), one-step rollback, and the history with who made each change.
import { authHeaders } from '../api.js'
import { fmt, h, notice, replace } from '../dom.js'

const ACTOR_KEY = 'sluice.actor'

export function liveConfigPanel(api) {
  const body = h('div', { id: 'live-config-body' })
  const panel = h('section', { class: 'panel', id: 'live-config' }, h('h3', {}, 'Live config'), body)

  async function load() {
    let config, history
    try {
      [config, history] = await Promise.all([api('/admin/config'), api('/admin/config/history?limit=10')])
    } catch (error) {
      if (error.status === 401) return
      replace(body, error.status === 404
        ? notice('info', 'Live config is off: add live() to the plugins to change routing, providers and key policies without a redeploy.')
        : notice('error', `Could not load the live config: ${error.message}`))
      return
    }
    render(config, history.data ?? [])
  }

  /** PUT or POST with the operator's name in `x-sluice-actor` (the admin key is shared: it names no one). */
  async function send(method, path, payload, actor) {
    const response = await fetch(path, {
      method, cache: 'no-store',
      headers: { ...authHeaders(), 'content-type': 'application/json', ...(actor && { 'x-sluice-actor': actor }) },
      body: JSON.stringify(payload),
    })
    const data = await response.json().catch(() => ({}))
    if (!response.ok) throw new Error(data?.error?.message ?? `HTTP ${response.status}`)
    return data
  }

  function render(config, history) {
    const status = h('div', { id: 'live-status' })
    const editor = h('textarea', { id: 'live-overlay', class: 'code-editor', rows: 12, spellcheck: 'false', 'aria-label': 'Live overlay (JSON)' })
    editor.value = JSON.stringify(config.overlay ?? {}, null, 2)
    const actor = h('input', { id: 'live-actor', placeholder: 'your name (kept with the change)', value: sessionStorage.getItem(ACTOR_KEY) ?? '' })
    const note = h('input', { id: 'live-note', placeholder: 'note (optional)' })
    const who = () => {
      const name = actor.value.trim()
      if (name) sessionStorage.setItem(ACTOR_KEY, name)
      return name
    }

    async function apply() {
      let overlay
      try {
        overlay = JSON.parse(editor.value || '{}')
      } catch (error) {
        return replace(status, notice('error', `The overlay is not valid JSON: ${error.message}`))
      }
      try {
        const made = await send('PUT', '/admin/config', { overlay, baseVersion: config.version, ...(note.value.trim() && { note: note.value.trim() }) }, who())
        replace(status, notice('info', `Version ${made.version} applied.`))
        await load()
      } catch (error) {
        replace(status, notice('error', error.message))
      }
    }

    async function rollback() {
      try {
        const made = await send('POST', '/admin/config/rollback', {}, who())
        replace(status, notice('info', `Version ${made.version} restores version ${made.restores}.`))
        await load()
      } catch (error) {
        replace(status, notice('error', error.message))
      }
    }

    const current = config.snapshot
    replace(body,
      h('p', { id: 'live-version' }, current
        ? `Version ${current.version} in force, made by ${current.actor} ${fmt.dateTime(current.createdAt)}${current.note ? ` — ${current.note}` : ''}. It is an overlay: the config file stays the base.`
        : 'Version 0: no live changes, the config file alone is in force.'),
      h('div', { class: 'live-columns' },
        h('div', {}, h('h4', {}, 'Config file (base)'), h('pre', { id: 'live-base' }, JSON.stringify(config.base ?? {}, null, 2))),
        h('div', {}, h('h4', {}, `Live overlay (sections: ${(config.sections ?? []).join(', ')})`), editor)),
      h('div', { class: 'live-actions' }, actor, note,
        h('button', { type: 'button', id: 'live-apply', onclick: apply }, 'Apply'),
        h('button', { type: 'button', id: 'live-rollback', class: 'ghost', onclick: rollback, disabled: !current }, 'Roll back one step')),
      status,
      history.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'data compact', id: 'live-history' },
        h('thead', {}, h('tr', {}, ['Version', 'By', 'When', 'Note'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, history.map((s) => h('tr', {}, [String(s.version), s.actor, fmt.dateTime(s.createdAt), s.note ?? ''].map((c) => h('td', {}, c))))))) : null)
  }

  load()
  return panel
}
