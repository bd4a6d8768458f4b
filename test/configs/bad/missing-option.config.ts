import { defineGatewayConfig } from 'sluice'
import { openai } from 'sluice/plugins/providers'
export default defineGatewayConfig({ plugins: [openai({} as any)] })
