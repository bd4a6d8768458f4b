// Config: what the gateway exposes to plugins. The full plugin list with (redacted) options needs a core
// accessor that plugins cannot reach yet; until then this shows services, recorder counters and what was seen.
import { fmt, h, notice, replace } from '../dom.js'
import { liveConfigPanel } from './config-live.js'

export function mount(root, { api }) {
  const body = h('div', { id: 'config-body' })
  replace(root, h('div', { class: 'view-head' }, h('h2', {}, 'Config'), h('button', { type: 'button', class: 'ghost', onclick: () => load() }, 'Refresh')), body)

  async function load() {
    try {
      render(await api('/admin/dashboard/config'))
    } catch (error) {
      if (error.status !== 401) replace(body, notice('error', `Could not load the configuration: ${error.message}`))
    }
  }

  function render(config) {
    const services = Object.entries(config.services)
    replace(body,
      liveConfigPanel(api),
      config.plugins
        ? section('Plugins', table(['Plugin', 'Options'], config.plugins.map((p) => [p.name, h('pre', {}, JSON.stringify(p.options ?? {}, null, 2))])))
        : notice('info', 'The list of loaded plugins and their options is not available to plugins yet; shown below is what the gateway services expose.'),
      section('Services', table(['Service', 'Provided by a plugin'], services.map(([name, present]) => [name, h('span', { class: `status ${present ? 'good' : 'muted'}` }, present ? 'yes' : 'no')]))),
      config.recorder ? section('Usage recorder', table(['Counter', 'Value'], Object.entries(config.recorder).map(([k, v]) => [k, fmt.int(v)]))) : null,
      section('This process', table(['', ''], [
        ['Dashboard started', fmt.dateTime(config.since)],
        ['Requests seen', fmt.int(config.recordsSeen)],
        ['Providers seen', config.providersSeen.length ? config.providersSeen.join(', ') : '–'],
        ['Breaker circuits', config.breakers ?? '–'],
      ])),
      section('Dashboard options', h('pre', {}, JSON.stringify(config.dashboard, null, 2))))
  }

  load()
}

function section(title, content) {
  return h('section', { class: 'panel' }, h('h3', {}, title), content)
}

function table(headers, rows) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data compact' },
    headers.some(Boolean) ? h('thead', {}, h('tr', {}, headers.map((c) => h('th', { scope: 'col' }, c)))) : null,
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))))
}
