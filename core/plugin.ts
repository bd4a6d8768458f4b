/** `definePlugin` and `defineGatewayConfig`: identity helpers that give users types with no runtime cost. */
import type { GatewayConfig, SluicePlugin } from './types.ts'

/**
 * Declares a plugin factory. The factory runs when the config is evaluated; it should validate its options
 * there (see `parseOptions`) so a bad option stops start-up with one clear line.
 */
export function definePlugin<Options extends unknown[]>(factory: (...options: Options) => SluicePlugin) {
  return factory
}

export function defineGatewayConfig(config: GatewayConfig): GatewayConfig {
  return config
}
