// Requests: the request log (the logs plugin). A search box and filters over GET /admin/requests, pages of
// results, and a request's detail page (#/requests/<id>): messages, answer, tool calls, attempts with their
// targets and timings, usage, cost and trace id (GET /admin/requests/:id).
import { fmt, h, notice, replace } from '../dom.js'

const STATUSES = { '': 'Any status', ok: 'OK', error: 'Errors', '4xx': '4xx', '5xx': '5xx' }
const RANGES = { '': 'Any time', 3600000: 'Last hour', 86400000: 'Last 24 hours', 604800000: 'Last 7 days' }
// Kept across visits to the view (and back from a detail page).
const filters = { q: '', key: '', model: '', provider: '', status: '', range: '86400000' }

export function mount(root, { api, path }) {
  if (path) return mountDetail(root, api, decodeURIComponent(path))
  return mountSearch(root, api)
}

function mountSearch(root, api) {
  const field = (name, label, attrs = {}) => h('input', { type: 'search', id: `requests-${name}`, name, value: filters[name], placeholder: label, 'aria-label': label, ...attrs })
  const q = field('q', 'Search words in prompts, answers, errors', { class: 'grow' })
  const key = field('key', 'Key id or name')
  const model = field('model', 'Model')
  const provider = field('provider', 'Provider')
  const status = h('select', { id: 'requests-status', 'aria-label': 'Status' }, Object.entries(STATUSES).map(([value, label]) => h('option', { value, selected: value === filters.status }, label)))
  const range = h('select', { id: 'requests-range', 'aria-label': 'Time range' }, Object.entries(RANGES).map(([value, label]) => h('option', { value, selected: value === filters.range }, label)))
  const banner = h('div', { class: 'banners' })
  const result = h('div', { class: 'table-wrap', id: 'requests-list' })
  const more = h('div', { class: 'form-actions' })
  replace(root,
    h('div', { class: 'view-head' }, h('h2', {}, 'Requests'), h('button', { type: 'button', class: 'ghost', onclick: () => load() }, 'Refresh')),
    h('form', { class: 'filters', id: 'requests-filters', role: 'search', onsubmit: (e) => { e.preventDefault(); load() } },
      q, key, model, provider, status, range, h('button', { type: 'submit', class: 'primary' }, 'Search')),
    banner, result, more)

  let seq = 0
  let rows = []
  async function load(cursor) {
    Object.assign(filters, { q: q.value.trim(), key: key.value.trim(), model: model.value.trim(), provider: provider.value.trim(), status: status.value, range: range.value })
    const params = new URLSearchParams({ limit: '50' })
    for (const name of ['q', 'key', 'model', 'provider', 'status']) if (filters[name]) params.set(name, filters[name])
    if (filters.range) params.set('from', String(Date.now() - Number(filters.range)))
    if (cursor) params.set('cursor', cursor)
    const mine = ++seq
    replace(banner)
    try {
      const page = await api(`/admin/requests?${params}`)
      if (mine !== seq) return
      rows = cursor ? rows.concat(page.data) : page.data
      render(rows)
      replace(more, page.nextCursor ? h('button', { type: 'button', id: 'requests-more', onclick: () => load(page.nextCursor) }, 'Older requests') : null)
    } catch (error) {
      if (mine !== seq || error.status === 401) return
      replace(result)
      replace(more)
      replace(banner, error.status === 404
        ? notice('warn', h('strong', {}, 'The request log is not configured: '), 'GET /admin/requests answers 404. Add logs() to the gateway config.')
        : notice('error', `Could not load requests: ${error.message}`))
    }
  }

  function render(list) {
    if (list.length === 0) return replace(result, notice('info', filters.q ? `No request matches “${filters.q}”.` : 'No requests match these filters.'))
    replace(result, h('table', { class: 'data', id: 'requests-table' },
      h('thead', {}, h('tr', {}, ['Time', 'Status', 'Model', 'Target', 'Key', 'Tokens', 'Cost', 'Latency', 'Attempts'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, list.map((entry) => h('tr', { dataset: { id: entry.id } },
        h('td', {}, h('a', { href: `#/requests/${encodeURIComponent(entry.id)}`, class: 'request-link' }, fmt.dateTime(entry.startedAt)), entry.hasContent ? null : h('span', { class: 'muted small', title: 'content not kept' }, ' ·')),
        h('td', {}, statusBadge(entry)),
        h('td', {}, entry.requestedModel || '–'),
        h('td', {}, entry.provider ? `${entry.provider}/${entry.upstreamModel}` : h('span', { class: 'muted' }, entry.cached ? 'cache' : '–')),
        h('td', {}, entry.principalName ?? entry.principalId ?? h('span', { class: 'muted' }, '–')),
        h('td', { class: 'num' }, `${fmt.int(entry.usage?.inputTokens)} + ${fmt.int(entry.usage?.outputTokens)}`),
        h('td', { class: 'num' }, fmt.usd(entry.costUSD)),
        h('td', { class: 'num' }, fmt.ms(entry.latencyMs)),
        h('td', { class: 'num' }, String(entry.attempts)))))))
  }

  load()
  return () => { seq++ }
}

function statusBadge(entry) {
  const ok = entry.status < 400 && entry.outcome === 'ok'
  return h('span', { class: `status ${ok ? 'good' : 'bad'}`, title: entry.outcome }, String(entry.status))
}

function mountDetail(root, api, id) {
  const body = h('div', { id: 'request-detail' }, notice('info', 'Loading…'))
  replace(root,
    h('div', { class: 'view-head' }, h('h2', {}, 'Request'), h('a', { href: '#/requests', class: 'ghost', id: 'request-back' }, '← All requests')),
    body)
  let live = true
  api(`/admin/requests/${encodeURIComponent(id)}`).then((entry) => {
    if (live) replace(body, detail(entry))
  }, (error) => {
    if (!live || error.status === 401) return
    replace(body, notice(error.status === 404 ? 'warn' : 'error', error.status === 404 ? `No logged request with id ${id} (retention may have removed it).` : `Could not load the request: ${error.message}`))
  })
  return () => { live = false }
}

const row = (label, ...value) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, ...value))

function detail(entry) {
  const usage = entry.usage ?? {}
  const summary = h('table', { class: 'data kv', id: 'request-summary' }, h('tbody', {},
    row('Id', h('span', { class: 'mono' }, entry.id)),
    entry.clientRequestId ? row('Client id', h('span', { class: 'mono' }, entry.clientRequestId)) : null,
    row('Time', fmt.dateTime(entry.startedAt)),
    row('Status', statusBadge(entry), ` ${entry.outcome}`, entry.errorMessage ? h('div', { class: 'muted small' }, entry.errorMessage) : null),
    row('Model', entry.requestedModel || '–', entry.provider ? ` → ${entry.provider}/${entry.upstreamModel}` : ''),
    row('API', entry.api, entry.stream ? ' (stream)' : ''),
    row('Key', entry.principalName ?? entry.principalId ?? '–', entry.principalName && entry.principalId ? h('span', { class: 'muted small mono' }, ` ${entry.principalId}`) : null),
    row('Usage', `${fmt.int(usage.inputTokens)} in + ${fmt.int(usage.outputTokens)} out`,
      usage.cachedTokens ? `, ${fmt.int(usage.cachedTokens)} cached` : '', usage.reasoningTokens ? `, ${fmt.int(usage.reasoningTokens)} reasoning` : '', usage.estimated ? ' (estimated)' : ''),
    row('Cost', h('span', { id: 'request-cost' }, fmt.usd(entry.costUSD)), entry.cached ? ` (cache hit, saved ${fmt.usd(entry.savedUSD)})` : ''),
    row('Latency', fmt.ms(entry.latencyMs), entry.ttfbMs !== undefined ? `, first byte ${fmt.ms(entry.ttfbMs)}` : ''),
    row('Trace', entry.traceId ? h('span', { class: 'mono', id: 'request-trace' }, entry.traceId) : h('span', { class: 'muted' }, 'none'))))

  const attempts = entry.attemptList?.length
    ? h('table', { class: 'data', id: 'request-attempts' },
      h('thead', {}, h('tr', {}, ['#', 'Target', 'Status', 'Outcome', 'Started', 'Took'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, entry.attemptList.map((attempt) => h('tr', { dataset: { number: attempt.number } },
        h('td', {}, String(attempt.number)),
        h('td', {}, `${attempt.provider}/${attempt.model}`),
        h('td', {}, h('span', { class: `status ${attempt.outcome === 'ok' ? 'good' : 'bad'}` }, String(attempt.status))),
        h('td', {}, attempt.outcome, attempt.error ? h('div', { class: 'muted small' }, attempt.error) : null),
        h('td', { class: 'num' }, `+${fmt.ms(attempt.offsetMs)}`),
        h('td', { class: 'num' }, fmt.ms(attempt.durationMs))))))
    : notice('info', entry.cached ? 'Answered from the cache: no upstream attempt.' : 'No upstream attempt was made.')

  const sections = [
    summary,
    h('h3', {}, 'Attempts'), attempts,
    entry.skipped?.length ? h('p', { class: 'muted small' }, `Skipped (circuit open): ${entry.skipped.join(', ')}`) : null,
  ]
  const content = entry.content
  if (!content) {
    sections.push(h('h3', {}, 'Content'), notice('info', 'Content was not kept for this request (content capture is off, or it was not sampled).'))
    return h('div', {}, sections)
  }
  if (content.truncated) sections.push(notice('warn', 'Content was cut to the configured size.'))
  const request = content.request
  if (request) {
    sections.push(h('h3', {}, 'Messages'))
    const list = h('div', { class: 'messages', id: 'request-messages' })
    if (request.omittedMessages) list.append(h('p', { class: 'muted small' }, `${request.omittedMessages} earlier messages not kept`))
    for (const text of request.system ?? []) list.append(message('system', text))
    for (const item of request.input ?? []) list.append(message('input', item))
    for (const m of request.messages ?? []) list.append(message(m.role, m.text, m))
    sections.push(list)
    if (request.tools?.length) sections.push(h('p', { class: 'muted small' }, `Tools offered: ${request.tools.join(', ')}`))
    if (request.params) sections.push(h('p', { class: 'muted small mono' }, Object.entries(request.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('  ')))
  }
  const response = content.response
  if (response) {
    sections.push(h('h3', {}, 'Answer'))
    const answer = h('div', { class: 'messages', id: 'request-answer' })
    if (response.reasoning) answer.append(message('reasoning', response.reasoning))
    answer.append(message('assistant', response.text || (response.toolCalls?.length ? '' : '(no text)'), { toolCalls: response.toolCalls }))
    if (response.finishReason) answer.append(h('p', { class: 'muted small' }, `finish: ${response.finishReason}`))
    sections.push(answer)
  }
  return h('div', {}, sections)
}

function message(role, text, extra = {}) {
  return h('div', { class: `message message-${role}` },
    h('div', { class: 'message-role' }, role, extra.images ? h('span', { class: 'muted small' }, ` · ${extra.images} image(s)`) : null),
    text ? h('pre', { class: 'message-text' }, text) : null,
    (extra.toolCalls ?? []).map((call) => h('div', { class: 'tool-call' }, h('span', { class: 'tag' }, 'tool call'), ` ${call.name} `, h('code', {}, call.arguments))),
    (extra.toolResults ?? []).map((result) => h('div', { class: 'tool-call' }, h('span', { class: 'tag' }, result.isError ? 'tool error' : 'tool result'), ` ${result.name ?? result.toolCallId} `, h('code', {}, result.text))))
}
