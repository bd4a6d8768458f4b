/** First-party plugins other than providers (those live in `sluice/plugins/providers`). */
export { keys, type KeysPluginOptions } from './keys/index.ts'
