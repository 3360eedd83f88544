/** A user name and password (or token) for one registry. */
export interface Credentials {
  username: string
  password: string
}

/**
 * Where the authorizer gets credentials (containerd's `WithAuthCreds`): called with a registry
 * host as written in references (docker.io, 127.0.0.1:5000), or a mirror's own host; undefined
 * means anonymous. The registry stage never reads credential stores itself: the caller passes
 * this callback (src/auth/ for the stored credentials, `login` for the ones it checks).
 */
export type CredentialsFn = (host: string) => Promise<Credentials | undefined>

export function basicAuthHeader(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}`
}
