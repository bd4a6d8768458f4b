// Usage: requests, tokens, cost and errors grouped by key, model, provider or day over a date range
// (GET /admin/usage). Key ids are shown with their names when the keys plugin is there.
import { dateInput, fmt, h, notice, replace } from '../dom.js'

const DAY_MS = 86_400_000
const GROUPS = { key: 'Key', model: 'Model', provider: 'Provider', day: 'Day' }
const state = { groupBy: 'key', from: null, to: null }

export function mount(root, { api }) {
  const now = Date.now()
  state.from ??= dateInput(now - 6 * DAY_MS)
  state.to ??= dateInput(now)
  const group = h('select', { id: 'usage-group', 'aria-label': 'Group by', onchange: load },
    Object.entries(GROUPS).map(([value, label]) => h('option', { value, selected: value === state.groupBy }, `By ${label.toLowerCase()}`)))
  const from = h('input', { type: 'date', id: 'usage-from', value: state.from, 'aria-label': 'From', onchange: load })
  const to = h('input', { type: 'date', id: 'usage-to', value: state.to, 'aria-label': 'To (inclusive)', onchange: load })
  const banner = h('div', { class: 'banners' })
  const result = h('div', { class: 'table-wrap' })
  replace(root,
    h('div', { class: 'view-head' }, h('h2', {}, 'Usage'), h('button', { type: 'button', class: 'ghost', onclick: load }, 'Refresh')),
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); load() } },
      h('label', {}, 'Group ', group), h('label', {}, 'From ', from), h('label', {}, 'To ', to)),
    banner, result)

  let seq = 0
  async function load() {
    Object.assign(state, { groupBy: group.value, from: from.value, to: to.value })
    const mine = ++seq
    const fromMs = new Date(`${from.value}T00:00:00`).getTime()
    const toMs = new Date(`${to.value}T00:00:00`).getTime() + DAY_MS
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || fromMs >= toMs) {
      replace(banner, notice('error', 'Pick a start date on or before the end date.'))
      return
    }
    replace(banner)
    try {
      const [usage, names] = await Promise.all([
        api(`/admin/usage?groupBy=${state.groupBy}&from=${fromMs}&to=${toMs}`),
        state.groupBy === 'key' ? keyNames(api) : Promise.resolve(new Map()),
      ])
      if (mine !== seq) return
      renderTable(usage.rows, names)
    } catch (error) {
      if (mine !== seq || error.status === 401) return
      replace(result)
      replace(banner, error.status === 404
        ? notice('warn', h('strong', {}, 'The usage plugin is not configured: '), 'GET /admin/usage answers 404. Add usage() to the gateway config to record usage.')
        : notice('error', `Could not load usage: ${error.message}`))
    }
  }

  function renderTable(rows, names) {
    if (rows.length === 0) return replace(result, notice('info', 'No requests in this range.'))
    const total = rows.reduce((t, r) => ({
      requests: t.requests + r.requests, errors: t.errors + r.errors, inputTokens: t.inputTokens + r.inputTokens,
      outputTokens: t.outputTokens + r.outputTokens, costUSD: t.costUSD + r.costUSD,
    }), { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, costUSD: 0 })
    const cells = (r, label) => [
      h('td', {}, label), h('td', { class: 'num' }, fmt.int(r.requests)), h('td', { class: 'num' }, fmt.int(r.errors)),
      h('td', { class: 'num' }, fmt.pct(r.requests ? r.errors / r.requests : 0)),
      h('td', { class: 'num' }, fmt.int(r.inputTokens)), h('td', { class: 'num' }, fmt.int(r.outputTokens)), h('td', { class: 'num' }, fmt.usd(r.costUSD))]
    replace(result, h('table', { class: 'data', id: 'usage-table' },
      h('thead', {}, h('tr', {}, [GROUPS[state.groupBy], 'Requests', 'Errors', 'Error rate', 'Input tokens', 'Output tokens', 'Cost'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, cells(r, names.has(r.group) ? h('span', {}, names.get(r.group), h('span', { class: 'muted small' }, ` ${r.group}`)) : r.group)))),
      h('tfoot', {}, h('tr', {}, cells(total, 'Total')))))
  }

  load()
  return () => { seq++ }
}

async function keyNames(api) {
  try {
    const { data } = await api('/admin/keys')
    return new Map(data.map((key) => [key.id, key.name]))
  } catch {
    return new Map()
  }
}
