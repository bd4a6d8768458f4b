// The console shell: login, navigation between views (hash routes), and the live feed shared by the views.
import { api, checkKey, session } from './api.js'
import { h, notice, replace } from './dom.js'
import { openFeed } from './feed.js'
import * as overview from './views/overview.js'
import * as live from './views/live.js'
import * as usage from './views/usage.js'
import * as keys from './views/keys.js'
import * as targets from './views/targets.js'
import * as config from './views/config.js'
import * as requests from './views/requests.js'

const VIEWS = { overview, live, usage, requests, keys, targets, config }
const TITLES = { overview: 'Overview', live: 'Live', usage: 'Usage', requests: 'Requests', keys: 'Keys', targets: 'Targets', config: 'Config' }
const MAX_RECORDS = 500

const root = document.getElementById('app')

/** Records from the feed (newest last) and who wants to hear about them. */
const feed = {
  records: [],
  status: { state: 'stopped' },
  skipped: 0,
  listeners: new Set(),
  stop: null,
  emit(kind, payload) {
    for (const listener of this.listeners) listener(kind, payload)
  },
}

function startFeed() {
  feed.stop?.()
  feed.records = []
  feed.stop = openFeed({
    key: session.key,
    onRecord(record) {
      feed.records.push(record)
      if (feed.records.length > MAX_RECORDS) feed.records.splice(0, feed.records.length - MAX_RECORDS)
      feed.emit('record', record)
    },
    onLagged(skipped) {
      feed.skipped += skipped
      feed.emit('lagged', skipped)
    },
    onStatus(status) {
      feed.status = status
      feed.emit('status', status)
    },
  })
}

function stopFeed() {
  feed.stop?.()
  feed.stop = null
}

let cleanup = null
let sessionInfo = null

/** `#/name` or `#/name/rest` (a view's own sub-page, e.g. one request): the view and the rest. */
function currentRoute() {
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/')
  return VIEWS[name] ? { name, path: rest.join('/') } : { name: 'overview', path: '' }
}

function renderLogin(message) {
  cleanup?.()
  cleanup = null
  stopFeed()
  feed.listeners.clear()
  const input = h('input', { type: 'password', id: 'admin-key', name: 'admin-key', autocomplete: 'current-password', required: true, placeholder: 'admin key', 'aria-label': 'Admin key' })
  const status = h('div', { class: 'login-status' }, message ? notice('error', message) : null)
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in')
  const form = h('form', {
    class: 'login-card',
    async onsubmit(event) {
      event.preventDefault()
      const key = input.value.trim()
      if (!key) return
      button.disabled = true
      replace(status, notice('info', 'Checking…'))
      try {
        sessionInfo = await checkKey(key)
        session.set(key)
        renderShell()
      } catch (error) {
        replace(status, notice('error', loginMessage(error)))
        input.select()
      } finally {
        button.disabled = false
      }
    },
  },
  h('h1', {}, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Sluice console'),
  h('p', { class: 'muted' }, 'Sign in with the gateway admin key. It is kept in this tab only (sessionStorage) and sent with each admin API call.'),
  h('label', { for: 'admin-key' }, 'Admin key'), input, button, status)
  replace(root, h('main', { class: 'login' }, form))
  input.focus()
}

function loginMessage(error) {
  if (error.status === 401) return 'Wrong admin key: the gateway refused it.'
  if (error.status === 404) return 'The admin API (or the dashboard plugin) is off on this gateway: set adminKey in its config.'
  if (error.status === 0) return 'The gateway is not reachable.'
  return `Sign-in failed: ${error.message}`
}

function renderShell() {
  const nav = h('nav', { class: 'tabs', 'aria-label': 'Views' },
    Object.keys(VIEWS).map((name) => h('a', { href: `#/${name}`, id: `tab-${name}`, dataset: { view: name } }, TITLES[name])))
  const feedDot = h('span', { class: 'feed-dot', title: 'live feed' })
  const header = h('header', { class: 'top' },
    h('a', { class: 'brand', href: '#/overview' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Sluice'),
    nav,
    h('div', { class: 'top-right' }, feedDot,
      h('button', { type: 'button', class: 'ghost', id: 'logout', onclick: () => { session.clear(); renderLogin() } }, 'Sign out')))
  const main = h('main', { class: 'view', id: 'view' })
  replace(root, header, main)
  const showFeedState = () => {
    feedDot.className = `feed-dot feed-${feed.status.state}`
    feedDot.title = `live feed: ${feed.status.state}${feed.status.detail ? ` (${feed.status.detail})` : ''}`
  }
  feed.listeners.add((kind) => kind === 'status' && showFeedState())
  startFeed()
  showFeedState()
  route()
}

function route() {
  const main = document.getElementById('view')
  if (!main) return
  cleanup?.()
  const { name, path } = currentRoute()
  for (const link of document.querySelectorAll('nav.tabs a')) link.setAttribute('aria-current', link.dataset.view === name ? 'page' : 'false')
  document.title = `${TITLES[name]} · Sluice console`
  main.replaceChildren()
  main.dataset.view = name
  cleanup = VIEWS[name].mount(main, { feed, session: sessionInfo, api, path }) ?? null
}

window.addEventListener('hashchange', route)
window.addEventListener('sluice:unauthorized', () => {
  session.clear()
  renderLogin('The admin key was refused (was it changed?). Sign in again.')
})

async function start() {
  if (!session.key) return renderLogin()
  try {
    sessionInfo = await checkKey(session.key)
    renderShell()
  } catch (error) {
    if (error.status === 401) session.clear()
    renderLogin(loginMessage(error))
  }
}

start()
