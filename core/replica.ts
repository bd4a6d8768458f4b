/** Which replica of a fleet this process is, for metrics labels and the dashboard's fleet views. */
import { hostname } from 'node:os'

const NAME = /^[\w.:@-]{1,100}$/

/** `SLUICE_REPLICA` when set (and a sane name), else the host name (a pod's name in Kubernetes). */
export function replicaId(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.SLUICE_REPLICA?.trim()
  return given && NAME.test(given) ? given : hostname()
}
