/** Starts the three mock upstreams, the Azure recording front and one gateway from providers-mocks.config.ts. */
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { startMockAnthropic, type MockUpstream } from '../fixtures/mock-anthropic.ts'
import { startMockGemini } from '../fixtures/mock-gemini.ts'
import { startGatewayFromFile, type TestGateway } from '../helpers/gateway.ts'
import { startRecordingFront, type RecordingFront } from './helpers.ts'

export interface ProviderRig {
  openai: MockOpenAI
  anthropic: MockUpstream
  gemini: MockUpstream
  azureFront: RecordingFront
  gateway: TestGateway
  close(): Promise<void>
}

export async function startProviderRig(): Promise<ProviderRig> {
  const openai = await startMockOpenAI()
  const anthropic = await startMockAnthropic({ cacheReadTokens: 10 })
  const gemini = await startMockGemini({ cachedTokens: 5 })
  const azureFront = await startRecordingFront(openai.url)
  const gateway = await startGatewayFromFile('providers-mocks.config.ts', {
    MOCK_OPENAI_URL: openai.url,
    MOCK_ANTHROPIC_URL: anthropic.url,
    MOCK_GEMINI_URL: gemini.url,
    MOCK_AZURE_URL: azureFront.url,
  })
  return {
    openai, anthropic, gemini, azureFront, gateway,
    async close() {
      await gateway.close()
      await Promise.all([openai.close(), anthropic.close(), gemini.close(), azureFront.close()])
    },
  }
}
