/**
 * The cloud rig: mock Bedrock, a mock Google token endpoint and a mock Vertex endpoint (fronting the Gemini and
 * Anthropic mocks), and one gateway from clouds.config.ts whose credentials come only from the environment: AWS_*
 * variables and GOOGLE_APPLICATION_CREDENTIALS naming a service-account JSON written for the test.
 */
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startMockBedrock, type MockBedrock } from '../fixtures/mock-bedrock.ts'
import { startMockAnthropic, type MockUpstream } from '../fixtures/mock-anthropic.ts'
import { startMockGemini } from '../fixtures/mock-gemini.ts'
import { startMockGoogleToken, startMockVertex, type MockGoogleToken } from '../fixtures/mock-vertex.ts'
import { startGatewayFromFile, type TestGateway } from '../helpers/gateway.ts'

export const AWS = {
  accessKeyId: 'AKIAMOCKCLOUDRIG01',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYMOCKSECRET',
  sessionToken: 'IQoJb3JpZ2luX2VjEMOCKSESSIONTOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQ',
  expiredSessionToken: 'IQoJb3JpZ2luX2VjEXPIREDSESSIONTOKEN',
  region: 'us-east-1',
}

export const GOOGLE = { project: 'sluice-test-project', region: 'us-central1', clientEmail: 'sluice-test@sluice-test-project.iam.gserviceaccount.com' }

export interface CloudRig {
  bedrock: MockBedrock
  token: MockGoogleToken
  vertex: MockUpstream
  gemini: MockUpstream
  anthropic: MockUpstream
  gateway: TestGateway
  /** The service-account JSON written for the test, and its private key. */
  serviceAccount: { file: string; json: Record<string, string> }
  close(): Promise<void>
}

/** A service-account JSON with a fresh RSA key (the token mock knows only the public half). */
export function makeServiceAccount(dir: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
  const json = {
    type: 'service_account', project_id: GOOGLE.project, private_key_id: 'mock-key-1', private_key: privateKey,
    client_email: GOOGLE.clientEmail, client_id: '1234567890', token_uri: 'https://oauth2.googleapis.com/token',
  }
  const file = join(dir, 'service-account.json')
  writeFileSync(file, JSON.stringify(json))
  return { file, json, publicKey }
}

export async function startCloudRig(options: { now?: () => number } = {}): Promise<CloudRig> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-clouds-'))
  const account = makeServiceAccount(dir)
  const bedrock = await startMockBedrock({ ...AWS, cacheReadTokens: 7, cacheWriteTokens: 3 })
  const token = await startMockGoogleToken({ clientEmail: GOOGLE.clientEmail, publicKey: account.publicKey, now: options.now })
  const gemini = await startMockGemini({ cachedTokens: 5 })
  const anthropic = await startMockAnthropic({ cacheReadTokens: 10 })
  const vertex = await startMockVertex({ project: GOOGLE.project, region: GOOGLE.region, tokens: token, geminiURL: gemini.url, anthropicURL: anthropic.url })
  const gateway = await startGatewayFromFile('clouds.config.ts', {
    MOCK_BEDROCK_URL: bedrock.url,
    MOCK_VERTEX_URL: vertex.url,
    MOCK_GOOGLE_TOKEN_URL: `${token.url}/token`,
    AWS_ACCESS_KEY_ID: AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: AWS.secretAccessKey,
    AWS_SESSION_TOKEN: AWS.sessionToken,
    AWS_REGION: AWS.region,
    GOOGLE_APPLICATION_CREDENTIALS: account.file,
    GOOGLE_CLOUD_LOCATION: GOOGLE.region,
  })
  return {
    bedrock, token, vertex, gemini, anthropic, gateway,
    serviceAccount: { file: account.file, json: account.json },
    async close() {
      await gateway.close()
      await Promise.all([bedrock.close(), token.close(), vertex.close(), gemini.close(), anthropic.close()])
    },
  }
}
