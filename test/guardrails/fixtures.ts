/** Secrets and personal data the guardrails tests send through the gateway (all fake, all of valid shape). */
export const PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB',
  'aFDrBz9vFqU4yY8MrLpM6vQq0j7Hk4nK0lD8K9Yg2xZ0gP6bJt+qW1y3o5rE7Rr2',
  '-----END RSA PRIVATE KEY-----',
].join('\n')

export const SK_KEY = 'sk-proj-abcdefghijklmnop1234'
export const CARD = '4111 1111 1111 1111'
export const EMAIL = 'jane.doe@example.com'
