import { defineGatewayConfig } from 'sluice'
import { openaiCompatible } from 'sluice/plugins/providers'
export default defineGatewayConfig({ plugins: [openaiCompatible({ name: 'x', baseURL: 'http://127.0.0.1:1/v1', apikey: 'oops' } as any)] })
