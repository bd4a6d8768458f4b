// The admin API client: every call carries the admin key the operator typed (kept in sessionStorage only).
const STORAGE_KEY = 'sluice.adminKey'

export const session = {
  get key() {
    return sessionStorage.getItem(STORAGE_KEY) ?? ''
  },
  set(key) {
    sessionStorage.setItem(STORAGE_KEY, key)
  },
  clear() {
    sessionStorage.removeItem(STORAGE_KEY)
  },
}

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message)
    this.status = status
    this.body = body
  }
}

export const authHeaders = (key = session.key) => ({ authorization: `Bearer ${key}` })

/** fetch() against the admin API; throws ApiError with the gateway's message. A 401 also fires `sluice:unauthorized`. */
export async function api(path, { method = 'GET', body, signal, key } = {}) {
  let response
  try {
    response = await fetch(path, {
      method,
      signal,
      cache: 'no-store',
      headers: { ...authHeaders(key), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (error) {
    if (error?.name === 'AbortError') throw error
    throw new ApiError(0, 'The gateway is not reachable.')
  }
  const text = await response.text()
  let data = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = null
  }
  if (!response.ok) {
    const message = data?.error?.message ?? `${response.status} ${response.statusText}`
    if (response.status === 401 && key === undefined) window.dispatchEvent(new CustomEvent('sluice:unauthorized'))
    throw new ApiError(response.status, message, data)
  }
  return data
}

/** Checks a key against the admin API. Resolves to the session info, or throws ApiError. */
export function checkKey(key) {
  return api('/admin/dashboard/session', { key })
}
