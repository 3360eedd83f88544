import type {Credentials} from '../auth/docker-config.js'

export type {Credentials} from '../auth/docker-config.js'

export function basicAuthHeader(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}`
}
