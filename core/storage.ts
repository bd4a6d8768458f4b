/** The gateway's key-value storage: an unstorage instance built from `config.storage`. */
import { createStorage, prefixStorage, type Storage } from 'unstorage'
import { ConfigError } from './errors.ts'
import type { StorageOptions } from './types.ts'

// The drivers a gateway can sensibly keep its state in. Each is imported only when chosen.
const DRIVERS: Record<string, () => Promise<{ default: (options: any) => any }>> = {
  memory: () => import('unstorage/drivers/memory'),
  fs: () => import('unstorage/drivers/fs'),
  'fs-lite': () => import('unstorage/drivers/fs-lite'),
  redis: () => import('unstorage/drivers/redis'),
  'lru-cache': () => import('unstorage/drivers/lru-cache'),
  db0: () => import('unstorage/drivers/db0'),
}

export const DEFAULT_STORAGE: StorageOptions = { driver: 'fs', base: '.sluice/kv' }

export async function createGatewayStorage(options: StorageOptions = DEFAULT_STORAGE): Promise<Storage> {
  const { driver, ...driverOptions } = options
  const load = DRIVERS[driver]
  if (!load) throw new ConfigError(`storage: unknown driver "${driver}" (one of ${Object.keys(DRIVERS).join(', ')})`)
  const factory = (await load()).default
  return createStorage({ driver: factory(driverOptions) })
}

export function pluginStorage(root: Storage, pluginName: string): Storage {
  return prefixStorage(root, `plugins:${pluginName}`)
}
