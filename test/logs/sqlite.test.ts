import { join } from 'node:path'
import { afterAll } from 'vitest'
import { createSqliteLogStore } from '../../plugins/logs/index.ts'
import { tempDir } from './helpers.ts'
import { storeSuite } from './store-suite.ts'

const { dir, cleanup } = tempDir()
afterAll(() => cleanup())
let n = 0

storeSuite('SQLite', async () => {
  const store = createSqliteLogStore({ file: join(dir, `logs-${++n}.db`) })
  await store.open()
  return store
})
