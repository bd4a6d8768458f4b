/**
 * The admin API of live config (behind the core's admin-key guard):
 *   GET  /admin/config                 the version in force, its overlay, and each section's config-file value
 *   PUT  /admin/config                 { overlay, note?, baseVersion? } → a new version, checked whole first
 *   GET  /admin/config/history?limit=  the versions, newest first, with who made each
 *   POST /admin/config/rollback        { to? } → a new version restoring the one before the current (or `to`)
 * Who made a change is the `x-sluice-actor` header (the admin key is shared, so it names no one by itself).
 */
import type { H3Event } from 'h3'
import { getQuery } from 'h3'
import { GatewayError } from '../../core/index.ts'
import type { PluginContext } from '../../core/index.ts'
import type { LiveState } from './state.ts'
import type { SnapshotStore } from './store.ts'
import type { Overlay, Snapshot } from './types.ts'

const MAX_BODY_CHARS = 256 * 1024
const ACTOR = /^[\w.@+ -]{1,100}$/

interface Wiring {
  store(): SnapshotStore | undefined
  publish(version: number): Promise<void>
}

const bad = (message: string, param?: string) => new GatewayError(400, message, { type: 'invalid_request_error', ...(param && { param }) })

async function readJson(event: H3Event): Promise<Record<string, unknown>> {
  const text = await event.req.text().catch(() => { throw bad('could not read the request body') })
  if (text.length > MAX_BODY_CHARS) throw new GatewayError(413, `request body is larger than ${MAX_BODY_CHARS} characters`, { type: 'invalid_request_error' })
  if (!text.trim()) return {}
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw bad('request body is not valid JSON')
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw bad('request body must be a JSON object')
  return data as Record<string, unknown>
}

function actorOf(event: H3Event): string {
  const given = event.req.headers.get('x-sluice-actor')?.trim()
  return given && ACTOR.test(given) ? given : 'admin'
}

export function mountLiveAdmin(gw: Pick<PluginContext, 'admin' | 'logger'>, state: LiveState, wiring: Wiring): void {
  const storeOrFail = () => {
    const store = wiring.store()
    if (!store) throw new GatewayError(503, 'live config is not started yet', { type: 'api_error' })
    return store
  }

  /** Checks `overlay` whole, stores it as the version after the head, applies it here and tells the others. */
  async function commit(store: SnapshotStore, overlay: Overlay, fields: { actor: string; note?: string; restores?: number; baseVersion?: number }): Promise<Snapshot> {
    let parsed: Map<string, unknown>
    try {
      parsed = state.parse(overlay)
    } catch (error) {
      throw bad(`the change was refused, nothing was applied: ${(error as Error).message}`, 'overlay')
    }
    const head = await store.head()
    const headVersion = head?.version ?? 0
    if (fields.baseVersion !== undefined && fields.baseVersion !== headVersion) {
      throw new GatewayError(409, `the config is at version ${headVersion}, not ${fields.baseVersion}: reload it and make the change again`, { type: 'invalid_request_error', code: 'version_conflict' })
    }
    const snapshot: Snapshot = {
      version: headVersion + 1, overlay, actor: fields.actor, createdAt: new Date().toISOString(),
      ...(fields.note && { note: fields.note }), ...(fields.restores !== undefined && { restores: fields.restores }),
    }
    if (!(await store.append(snapshot))) {
      throw new GatewayError(409, `another change became version ${snapshot.version} meanwhile: reload the config and make the change again`, { type: 'invalid_request_error', code: 'version_conflict' })
    }
    if (snapshot.version > (state.current?.version ?? 0)) state.apply(snapshot, parsed)
    gw.logger.info(`live: config version ${snapshot.version} made by ${snapshot.actor}${snapshot.restores !== undefined ? ` (restores ${snapshot.restores})` : ''}`)
    await wiring.publish(snapshot.version)
    return snapshot
  }

  gw.admin('GET', '/config', () => {
    const current = state.current
    return {
      version: current?.version ?? 0,
      snapshot: current ?? null,
      overlay: current?.overlay ?? {},
      base: Object.fromEntries([...state.sections].map(([name, section]) => [name, section.base?.() ?? null])),
      sections: [...state.sections.keys()],
    }
  })

  gw.admin('PUT', '/config', async (event) => {
    const body = await readJson(event)
    const { overlay, note, baseVersion, ...rest } = body
    const unknown = Object.keys(rest)[0]
    if (unknown) throw bad(`unknown field "${unknown}" (expected overlay, note, baseVersion)`, unknown)
    if (note !== undefined && (typeof note !== 'string' || note.length > 500)) throw bad('note must be a string of at most 500 characters', 'note')
    if (baseVersion !== undefined && (!Number.isInteger(baseVersion) || (baseVersion as number) < 0)) throw bad('baseVersion must be a version number', 'baseVersion')
    const snapshot = await commit(storeOrFail(), (overlay ?? {}) as Overlay, { actor: actorOf(event), note: note as string | undefined, baseVersion: baseVersion as number | undefined })
    return Response.json(snapshot, { status: 201 })
  })

  gw.admin('GET', '/config/history', async (event) => {
    const limit = Math.min(Math.max(Number(getQuery(event).limit ?? 50) || 50, 1), 1000)
    return { object: 'list', current: state.current?.version ?? 0, data: await storeOrFail().list(limit) }
  })

  gw.admin('POST', '/config/rollback', async (event) => {
    const body = await readJson(event)
    const store = storeOrFail()
    const head = await store.head()
    if (!head) throw bad('there is no live change to roll back: the config file alone is in force')
    const to = body.to === undefined ? head.version - 1 : body.to
    if (!Number.isInteger(to) || (to as number) < 0 || (to as number) >= head.version) throw bad(`to must be a version below ${head.version}`, 'to')
    const target = to === 0 ? undefined : await store.get(to as number)
    if (to !== 0 && !target) throw bad(`there is no version ${to}`, 'to')
    const snapshot = await commit(store, target?.overlay ?? {}, { actor: actorOf(event), note: `rollback to version ${to}`, restores: to as number, baseVersion: head.version })
    return Response.json(snapshot, { status: 201 })
  })
}
