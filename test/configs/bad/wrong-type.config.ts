import { defineGatewayConfig } from 'sluice'
export default defineGatewayConfig({ server: { port: 'eighty' } } as any)
