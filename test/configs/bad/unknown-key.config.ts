import { defineGatewayConfig } from 'sluice'
export default defineGatewayConfig({ server: { prot: 8080 } } as any)
