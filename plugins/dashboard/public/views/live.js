// Live: each finished request as it happens, newest first. Pause holds new rows back; the filter matches
// model, provider, key and status.
import { fmt, h, notice, replace } from '../dom.js'

const SHOWN = 200
const STATUS_TEXT = {
  connecting: 'Connecting…', open: 'Connected', retrying: 'Reconnecting…', unavailable: 'Unavailable', unauthorized: 'Admin key refused', stopped: 'Stopped',
}

export function mount(root, { feed }) {
  let paused = false
  let pausedAt = 0
  let filter = ''
  let outcome = 'all'

  const status = h('span', { class: 'feed-status', id: 'feed-status' })
  const pauseButton = h('button', { type: 'button', id: 'feed-pause', 'aria-pressed': 'false', onclick: togglePause }, 'Pause')
  const search = h('input', { type: 'search', id: 'feed-filter', placeholder: 'Filter: model, provider, key, status', 'aria-label': 'Filter',
    oninput() { filter = search.value.trim().toLowerCase(); draw() } })
  const outcomeSelect = h('select', { id: 'feed-outcome', 'aria-label': 'Outcome', onchange() { outcome = outcomeSelect.value; draw() } },
    h('option', { value: 'all' }, 'All'), h('option', { value: 'ok' }, 'Succeeded'), h('option', { value: 'error' }, 'Failed'))
  const banner = h('div', { class: 'banners' })
  const body = h('tbody', { id: 'feed-rows' })
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'data feed' },
    h('thead', {}, h('tr', {}, ['Time', 'Model', 'Provider', 'Key', 'Status', 'Tokens in/out', 'Cost', 'Latency', 'TTFB'].map((c) => h('th', { scope: 'col' }, c)))),
    body))
  const held = h('span', { class: 'muted', id: 'feed-held' })
  replace(root,
    h('div', { class: 'view-head' }, h('h2', {}, 'Live'), h('div', { class: 'actions' }, status, held, pauseButton)),
    h('div', { class: 'filters' }, search, outcomeSelect),
    banner, table)

  function togglePause() {
    paused = !paused
    pausedAt = feed.records.length ? feed.records.at(-1) : null
    pauseButton.textContent = paused ? 'Resume' : 'Pause'
    pauseButton.setAttribute('aria-pressed', String(paused))
    draw()
  }

  const matches = (r) => {
    if (outcome === 'ok' && r.status >= 400) return false
    if (outcome === 'error' && r.status < 400) return false
    if (!filter) return true
    return [r.requestedModel, r.upstreamModel, r.provider, r.principalName, r.principalId, String(r.status), r.outcome, r.replica]
      .some((field) => field && String(field).toLowerCase().includes(filter))
  }

  function visibleRecords() {
    let records = feed.records
    if (paused) {
      const end = pausedAt ? records.indexOf(pausedAt) + 1 : 0
      held.textContent = `${records.length - end} new while paused`
      records = records.slice(0, end)
    } else {
      held.textContent = ''
    }
    const out = []
    for (let i = records.length - 1; i >= 0 && out.length < SHOWN; i--) if (matches(records[i])) out.push(records[i])
    return out
  }

  function draw() {
    const records = visibleRecords()
    if (records.length === 0) {
      replace(body, h('tr', {}, h('td', { colspan: 9, class: 'empty' }, feed.records.length ? 'No request matches the filter.' : 'Waiting for requests… each finished request shows up here.')))
      return
    }
    replace(body, records.map(row))
  }

  function showStatus() {
    const s = feed.status
    status.textContent = STATUS_TEXT[s.state] ?? s.state
    status.className = `feed-status feed-${s.state}`
    if (s.state === 'unavailable') {
      replace(banner, notice('warn', h('strong', {}, 'The usage plugin is not configured: '), 'the live feed (GET /admin/events) answers 404. Add usage() to the gateway config.'))
    } else if (s.state === 'retrying') {
      replace(banner, notice('info', `${s.detail ?? 'Disconnected.'} Reconnecting in ${Math.round((s.retryInMs ?? 0) / 100) / 10} s…`))
    } else {
      replace(banner)
    }
  }

  const listener = (kind, payload) => {
    if (kind === 'status') showStatus()
    else if (kind === 'lagged') replace(banner, notice('warn', `${payload} requests were skipped because this tab read too slowly.`))
    else if (kind === 'record') draw()
  }
  feed.listeners.add(listener)
  showStatus()
  draw()
  return () => feed.listeners.delete(listener)
}

function row(r) {
  const failed = r.status >= 400
  // Show where an alias or fallback went; `echo/x` served as `x` by provider `echo` needs no second name.
  const routed = r.upstreamModel && r.requestedModel !== r.upstreamModel && r.requestedModel !== `${r.provider}/${r.upstreamModel}`
  const model = routed ? `${r.requestedModel} → ${r.provider}/${r.upstreamModel}` : r.requestedModel
  return h('tr', { class: failed ? 'failed' : undefined, dataset: { id: r.id } },
    h('td', { class: 'num' }, fmt.time(r.endedAt ?? r.startedAt)),
    h('td', { class: 'model' }, model ?? '–', r.stream ? h('span', { class: 'tag' }, 'stream') : null),
    h('td', {}, r.provider ?? '–', r.replica ? h('span', { class: 'muted small replica', title: 'replica that served it' }, ` @ ${r.replica}`) : null),
    h('td', {}, r.principalName ?? r.principalId ?? '–'),
    h('td', {}, h('span', { class: `status ${failed ? 'bad' : 'good'}`, title: r.errorMessage ?? r.outcome }, String(r.status)), failed ? h('span', { class: 'muted small' }, ` ${r.outcome}`) : null),
    h('td', { class: 'num' }, `${fmt.int(r.usage?.inputTokens)} / ${fmt.int(r.usage?.outputTokens)}`, r.usage?.estimated ? h('span', { class: 'muted', title: 'estimated' }, ' ~') : null),
    h('td', { class: 'num' }, fmt.usd(r.costUSD)),
    h('td', { class: 'num' }, fmt.ms(r.latencyMs)),
    h('td', { class: 'num' }, fmt.ms(r.ttfbMs)))
}
