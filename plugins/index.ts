/** First-party plugins other than providers (those live in `sluice/plugins/providers`). */
export { keys, type KeysPluginOptions } from './keys/index.ts'
export { router } from './router/index.ts'
export { governor } from './governor/index.ts'
export { retry } from './retry/index.ts'
export { breaker } from './breaker/index.ts'
export { usage } from './usage/index.ts'
export { metrics } from './metrics/index.ts'
export { dashboard, type DashboardOptions } from './dashboard/index.ts'
