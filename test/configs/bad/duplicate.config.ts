import { defineGatewayConfig } from 'sluice'
import { echo } from 'sluice/plugins/providers'
export default defineGatewayConfig({ plugins: [echo(), echo()] })
