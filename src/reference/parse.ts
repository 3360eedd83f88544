import {ReferenceError} from '../errors.js'
import {isDigest} from '../oci/digest.js'

/**
 * An image reference, normalized the way docker does it:
 *   alpine                      -> docker.io/library/alpine:latest
 *   user/app:1                  -> docker.io/user/app:1
 *   localhost:5000/a/b@sha256:… -> localhost:5000/a/b@sha256:…
 */
export interface Reference {
  /** Registry host as written (docker.io for Docker Hub), with port if any. */
  registry: string
  /** Repository path inside the registry (library/alpine). */
  repository: string
  tag?: string
  digest?: string
  /** registry/repository. */
  name: string
  /** Short name for display: alpine, user/app, localhost:5000/a/b. */
  familiarName: string
  /** The tag or digest to ask the registry for (digest wins). */
  reference: string
  /** Normalized string: registry/repository[:tag][@digest]. */
  toString(): string
  /** Familiar string for display: alpine:latest, user/app@sha256:…. */
  familiar(): string
}

export const DOCKER_HUB = 'docker.io'
/** Where Docker Hub's registry API actually lives. */
export const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io'

const MAX_NAME_LENGTH = 255
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const domainComponent = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/
const tagPattern = /^[\w][\w.-]{0,127}$/
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/

/** Registry host for an API endpoint: docker.io's registry is served from registry-1.docker.io. */
export function registryEndpointHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_ENDPOINT : registry
}

function fail(input: string, why: string): never {
  throw new ReferenceError(`invalid reference format: ${JSON.stringify(input)}: ${why}`)
}

function isValidDomain(domain: string): boolean {
  let host = domain
  let port: string | undefined
  if (host.startsWith('[')) {
    const end = host.indexOf(']')
    if (end < 0) return false
    const inside = host.slice(1, end)
    if (!/^[0-9a-fA-F:.]+$/.test(inside) || !inside.includes(':')) return false
    const rest = host.slice(end + 1)
    if (rest !== '' && !/^:[0-9]+$/.test(rest)) return false
    return true
  }
  const colon = host.lastIndexOf(':')
  if (colon >= 0) {
    port = host.slice(colon + 1)
    host = host.slice(0, colon)
    if (!/^[0-9]+$/.test(port) || Number(port) > 65535) return false
  }
  if (host === '') return false
  return host.split('.').every((part) => domainComponent.test(part))
}

/** A digest string that ctr-ts can verify: sha256 only, lowercase hex. */
export function validateDigest(digest: string, input = digest): string {
  if (!digestPattern.test(digest)) fail(input, `invalid digest ${JSON.stringify(digest)}`)
  if (!digest.startsWith('sha256:')) fail(input, `unsupported digest algorithm ${JSON.stringify(digest.split(':')[0])}`)
  if (!isDigest(digest)) fail(input, 'sha256 digest must be 64 lowercase hex characters')
  return digest
}

/** Parses and normalizes an image reference; throws ReferenceError with the reason when invalid. */
export function parseReference(input: string): Reference {
  const s = input.trim()
  if (s === '') fail(input, 'empty reference')
  if (s !== input) fail(input, 'surrounding whitespace')
  if (/\s/.test(s)) fail(input, 'contains whitespace')
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) fail(input, 'a reference has no URL scheme')

  let rest = s
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = validateDigest(rest.slice(at + 1), input)
    rest = rest.slice(0, at)
  }

  let tag: string | undefined
  const lastSlash = rest.lastIndexOf('/')
  const lastColon = rest.lastIndexOf(':')
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1)
    rest = rest.slice(0, lastColon)
    if (!tagPattern.test(tag)) fail(input, `invalid tag ${JSON.stringify(tag)}`)
  }
  if (rest === '') fail(input, 'missing repository name')

  let registry = DOCKER_HUB
  let path = rest
  const slash = rest.indexOf('/')
  if (slash >= 0) {
    const first = rest.slice(0, slash)
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[') || first !== first.toLowerCase()) {
      if (!isValidDomain(first)) fail(input, `invalid registry host ${JSON.stringify(first)}`)
      registry = first
      path = rest.slice(slash + 1)
    }
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_ENDPOINT) registry = DOCKER_HUB
  if (path === '') fail(input, 'missing repository name')
  if (path !== path.toLowerCase()) fail(input, 'repository name must be lowercase')
  for (const component of path.split('/')) {
    if (!pathComponent.test(component)) fail(input, `invalid repository name component ${JSON.stringify(component)}`)
  }
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`
  const name = `${registry}/${path}`
  if (name.length > MAX_NAME_LENGTH) fail(input, `repository name longer than ${MAX_NAME_LENGTH} characters`)

  if (!tag && !digest) tag = 'latest'
  return makeReference(registry, path, tag, digest)
}

function makeReference(registry: string, repository: string, tag: string | undefined, digest: string | undefined): Reference {
  const name = `${registry}/${repository}`
  let familiarName = name
  if (registry === DOCKER_HUB) familiarName = repository.startsWith('library/') && repository.split('/').length === 2 ? repository.slice(8) : repository
  const suffix = `${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`
  return {
    registry,
    repository,
    tag,
    digest,
    name,
    familiarName,
    reference: digest ?? tag ?? 'latest',
    toString: () => `${name}${suffix}`,
    familiar: () => `${familiarName}${suffix}`,
  }
}

/** True when `input` parses as a reference; never throws. */
export function isReference(input: string): boolean {
  try {
    parseReference(input)
    return true
  } catch {
    return false
  }
}
