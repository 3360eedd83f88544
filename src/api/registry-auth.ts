/**
 * docker's `X-Registry-Auth` header (base64url JSON: username, password, serveraddress) and the
 * `/auth` body: credentials for one registry, handed to the engine as a context whose
 * configuration carries them for that host (the first place credentials are looked up), so
 * nothing is written to disk and other hosts keep the stored credentials.
 */
import {normalizeRegistry} from '../auth/docker-config.js'
import type {Context} from '../context.js'
import type {Credentials} from '../auth/credentials.js'
import {parseReference} from '../reference/parse.js'

export interface RegistryAuth {
  username?: string
  password?: string
  serveraddress?: string
  auth?: string
  identitytoken?: string
}

/** The header's credentials; undefined when absent, empty (`{}`) or unreadable (as docker: anonymous). */
export function decodeRegistryAuth(header: string | string[] | undefined): Credentials | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (!value) return undefined
  let parsed: RegistryAuth
  try {
    parsed = JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as RegistryAuth
  } catch {
    return undefined
  }
  return credentialsOf(parsed)
}

/** username/password, or the `auth` field (base64 user:password) docker's config stores. */
export function credentialsOf(a: RegistryAuth | null | undefined): Credentials | undefined {
  if (!a || typeof a !== 'object') return undefined
  if (typeof a.username === 'string' && a.username !== '' && typeof a.password === 'string') return {username: a.username, password: a.password}
  if (typeof a.auth === 'string' && a.auth !== '') {
    const plain = Buffer.from(a.auth, 'base64').toString('utf8')
    const colon = plain.indexOf(':')
    if (colon > 0) return {username: plain.slice(0, colon), password: plain.slice(colon + 1)}
  }
  return undefined
}

/** The context with `creds` for the registry of `ref` (unchanged without credentials). */
export function contextWithCredentials(ctx: Context, ref: string, creds: Credentials | undefined): Context {
  if (!creds) return ctx
  const host = normalizeRegistry(parseReference(ref).registry)
  const registries = {...ctx.config.registries}
  registries[host] = {...registries[host], username: creds.username, password: creds.password}
  return {...ctx, config: {...ctx.config, registries}}
}
