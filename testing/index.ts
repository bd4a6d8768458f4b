/**
 * `sluice/testing`: a kit for testing plugins with vitest (or any runner) — an in-process gateway built from a
 * config, a scripted provider, a request context for a single hook, and a harness that runs one phase's hooks
 * as the pipeline does.
 */
export { createTestGateway, type TestGateway, type TestGatewayOptions } from './gateway.ts'
export { scriptedProvider, type ScriptedProvider, type ScriptedProviderOptions, type ScriptedReply } from './scripted-provider.ts'
export { testContext, type TestContextInit } from './context.ts'
export { pluginHarness, TEST_ADMIN_KEY, type PluginHarness, type HarnessOptions, type RecordInit } from './harness.ts'
