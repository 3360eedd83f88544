import {NotFoundError, UsageError} from '../errors.js'
import type {Descriptor, Platform} from '../oci/types.js'

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
  i686: '386',
  x86: '386',
}

/** Normalizes architecture and variant the way containerd does (arm64 → v8, arm → v7 by default). */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase()
  let architecture = p.architecture.toLowerCase()
  let variant = p.variant?.toLowerCase() || undefined
  if (p.architecture === 'armhf') variant ??= 'v7'
  if (p.architecture === 'armel') variant ??= 'v6'
  architecture = ARCH_ALIASES[architecture] ?? architecture
  if (architecture === 'arm64') variant = variant === '8' || variant === undefined ? 'v8' : variant
  if (architecture === 'arm') variant = variant === undefined ? 'v7' : /^\d+$/.test(variant) ? `v${variant}` : variant
  if (architecture === 'amd64' && (variant === 'v1' || variant === '')) variant = undefined
  return {os, architecture, ...(variant ? {variant} : {})}
}

/** "os/arch[/variant]" → Platform. */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/')
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[a-zA-Z0-9_.-]+$/.test(x))) {
    throw new UsageError(`invalid platform ${JSON.stringify(s)}: expected os/arch[/variant], e.g. linux/arm64`)
  }
  return normalizePlatform({os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? {variant: parts[2]} : {})})
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/')
}

/** The platform ctr-ts runs on (linux + the Node architecture in OCI words). */
export function hostPlatform(arch: string = process.arch): Platform {
  const map: Record<string, Platform> = {
    x64: {os: 'linux', architecture: 'amd64'},
    arm64: {os: 'linux', architecture: 'arm64', variant: 'v8'},
    arm: {os: 'linux', architecture: 'arm', variant: `v${(process.config.variables as {arm_version?: string}).arm_version ?? '7'}`},
    ia32: {os: 'linux', architecture: '386'},
    ppc64: {os: 'linux', architecture: 'ppc64le'},
    s390x: {os: 'linux', architecture: 's390x'},
    riscv64: {os: 'linux', architecture: 'riscv64'},
    loong64: {os: 'linux', architecture: 'loong64'},
    mips64el: {os: 'linux', architecture: 'mips64le'},
  }
  return normalizePlatform(map[arch] ?? {os: 'linux', architecture: arch})
}

/** The platform to pull for: the --platform flag, else the configured default, else the host. */
export function wantedPlatform(flag?: string, configured?: string): Platform {
  if (flag) return parsePlatform(flag)
  if (configured) return parsePlatform(configured)
  return hostPlatform()
}

/** Attestation manifests (buildkit provenance/SBOM) are not images. */
export function isAttestation(d: Descriptor): boolean {
  return (
    d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (d.platform?.os === 'unknown' && d.platform?.architecture === 'unknown')
  )
}

/** arm variants a host of `variant` can run, best first (v8 runs v7, v6, v5 in 32-bit mode isn't assumed). */
function compatibleVariants(arch: string, variant: string | undefined): Array<string | undefined> {
  if (arch === 'arm') {
    const n = Number((variant ?? 'v7').slice(1))
    const out: string[] = []
    for (let v = n; v >= 5; v--) out.push(`v${v}`)
    return out
  }
  if (arch === 'amd64') {
    const n = variant ? Number(variant.slice(1)) : 1
    const out: Array<string | undefined> = [variant]
    for (let v = n; v >= 2; v--) out.push(`v${v}`)
    out.push(undefined)
    return [...new Set(out)]
  }
  return [variant]
}

/**
 * Picks the manifest for `want` from an index: attestations are skipped; an exact variant match
 * wins over a compatible one (arm/v7 host: v7, then v6, v5). NotFoundError lists what exists.
 */
export function selectManifest(manifests: Descriptor[], want: Platform, what = 'the manifest list'): Descriptor {
  const w = normalizePlatform(want)
  const candidates = manifests.filter((d) => !isAttestation(d))
  const withPlatform = candidates.map((d) => ({d, p: d.platform ? normalizePlatform(d.platform) : undefined}))
  const variants = compatibleVariants(w.architecture, w.variant)
  for (const variant of variants) {
    const hit = withPlatform.find(({p}) => p && p.os === w.os && p.architecture === w.architecture && p.variant === variant)
    if (hit) return hit.d
  }
  const available = withPlatform.map(({p}) => (p ? formatPlatform(p) : 'unknown'))
  throw new NotFoundError(
    `no matching manifest for ${formatPlatform(w)} in ${what} (available: ${available.length > 0 ? [...new Set(available)].join(', ') : 'none'})`,
  )
}

/** True when an image config's platform is what was asked for (a single-platform image). */
export function platformMatches(have: Platform, want: Platform): boolean {
  const h = normalizePlatform(have)
  const w = normalizePlatform(want)
  return h.os === w.os && h.architecture === w.architecture && compatibleVariants(w.architecture, w.variant).includes(h.variant)
}
