// Overview: totals and charts for the last hour, day or week. Counts, tokens and cost come from the usage
// store (GET /admin/usage grouped by minute or hour) when the usage plugin is there; latency and TTFB
// percentiles from the dashboard's own in-memory buckets (this process, since it started).
import { ApiError } from '../api.js'
import { chart } from '../chart.js'
import { fmt, h, notice, replace } from '../dom.js'
import { cacheLine } from './cache-line.js'
import { fleetPanel } from './fleet-panel.js'

const RANGE_LABELS = { hour: 'Last hour', day: 'Last day', week: 'Last week' }
const USAGE_GROUP = { hour: 'minute', day: 'hour', week: 'hour' }
const REFRESH_MS = 3000
let selected = 'hour'

export function mount(root, { api }) {
  const controls = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Range' },
    Object.entries(RANGE_LABELS).map(([range, label]) => h('button', {
      type: 'button', dataset: { range }, 'aria-pressed': String(range === selected),
      onclick() {
        selected = range
        for (const b of controls.children) b.setAttribute('aria-pressed', String(b.dataset.range === range))
        load()
      },
    }, label)))
  const refresh = h('button', { type: 'button', class: 'ghost', id: 'overview-refresh', onclick: () => load() }, 'Refresh')
  const banner = h('div', { class: 'banners' })
  const cards = h('section', { class: 'cards', id: 'overview-cards' })
  const charts = h('section', { class: 'charts' })
  replace(root, h('div', { class: 'view-head' }, h('h2', {}, 'Overview'), h('div', { class: 'actions' }, controls, refresh)), banner, cacheLine(api), fleetPanel(api), cards, charts)

  let timer
  let seq = 0
  async function load() {
    clearTimeout(timer)
    const mine = ++seq
    const range = selected
    try {
      const memory = await api(`/admin/dashboard/overview?range=${range}`)
      let rows = null
      let usageProblem = null
      try {
        const usage = await api(`/admin/usage?groupBy=${USAGE_GROUP[range]}&from=${memory.from}&to=${memory.to + 1}`)
        rows = usage.rows
      } catch (error) {
        if (!(error instanceof ApiError) || error.status === 401) throw error
        usageProblem = error.status === 404 ? 'missing' : error.message
      }
      if (mine !== seq) return
      render(memory, rows, usageProblem)
    } catch (error) {
      if (mine !== seq || error.status === 401) return
      replace(banner, notice('error', `Could not load the overview: ${error.message}`))
    } finally {
      if (mine === seq) timer = setTimeout(load, REFRESH_MS)
    }
  }

  function render(memory, rows, usageProblem) {
    const times = memory.buckets.map((b) => b.start)
    let series = memory.buckets
    if (rows) {
      const byStart = new Map(rows.map((row) => [Number(row.group), row]))
      series = memory.buckets.map((b) => ({ ...b, ...(byStart.get(b.start) ?? { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, costUSD: 0 }) }))
    }
    const sum = (field) => series.reduce((total, b) => total + (b[field] ?? 0), 0)
    const requests = sum('requests')
    const errors = sum('errors')
    replace(banner,
      usageProblem === 'missing'
        ? notice('warn', h('strong', {}, 'The usage plugin is not configured'), ' (GET /admin/usage answers 404). Totals below come from this gateway process since ',
          fmt.dateTime(memory.since), ' and are lost on restart; the live feed and usage tables need usage() in the config.')
        : usageProblem ? notice('warn', `Usage store: ${usageProblem}. Showing this process's numbers since ${fmt.dateTime(memory.since)}.`) : null,
      notice('info', 'Latency and TTFB percentiles: this gateway process since ', fmt.dateTime(memory.since), '.'))

    const t = memory.totals
    replace(cards,
      card('Requests', fmt.int(requests), 'requests'),
      card('Error rate', requests ? fmt.pct(errors / requests) : '–', 'error-rate', `${fmt.int(errors)} errors`),
      card('Tokens', fmt.compact(sum('inputTokens') + sum('outputTokens')), 'tokens', `${fmt.compact(sum('inputTokens'))} in · ${fmt.compact(sum('outputTokens'))} out`),
      card('Cost', fmt.usd(sum('costUSD')), 'cost'),
      card('Latency p50 / p95', `${fmt.ms(t.latency.p50)} / ${fmt.ms(t.latency.p95)}`, 'latency'),
      card('TTFB p50 / p95', `${fmt.ms(t.ttfb.p50)} / ${fmt.ms(t.ttfb.p95)}`, 'ttfb'))

    const base = { times, bucketMs: memory.bucketMs }
    replace(charts,
      chart({ ...base, title: 'Requests', format: fmt.compact, series: [
        { label: 'requests', values: series.map((b) => b.requests) }, { label: 'errors', values: series.map((b) => b.errors) }] }),
      chart({ ...base, title: 'Error rate', format: fmt.pct, series: [
        { label: 'errors / requests', values: series.map((b) => (b.requests ? b.errors / b.requests : undefined)) }] }),
      chart({ ...base, title: 'Tokens', format: fmt.compact, series: [
        { label: 'input', values: series.map((b) => b.inputTokens) }, { label: 'output', values: series.map((b) => b.outputTokens) }] }),
      chart({ ...base, title: 'Cost (USD)', format: fmt.usd, series: [{ label: 'cost', values: series.map((b) => b.costUSD) }] }),
      chart({ ...base, title: 'Latency', format: fmt.ms, series: [
        { label: 'p50', values: memory.buckets.map((b) => b.p50) }, { label: 'p95', values: memory.buckets.map((b) => b.p95) }] }),
      chart({ ...base, title: 'Time to first byte', format: fmt.ms, series: [
        { label: 'p50', values: memory.buckets.map((b) => b.ttfbP50) }, { label: 'p95', values: memory.buckets.map((b) => b.ttfbP95) }] }))
  }

  load()
  return () => {
    seq++
    clearTimeout(timer)
  }
}

function card(label, value, id, detail) {
  return h('div', { class: 'card', id: `card-${id}` }, h('div', { class: 'card-label' }, label), h('div', { class: 'card-value' }, value), detail ? h('div', { class: 'card-detail' }, detail) : null)
}
