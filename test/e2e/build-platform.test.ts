/**
 * `build --platform` and `FROM --platform` (with BuildKit's automatic platform ARGs), and ONBUILD
 * triggers, end to end as the unprivileged user against the local registry.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ctr, type TempRoot} from '../harness/cli.js'
import {fileRootWithImage} from '../harness/file-root.js'

let t: TempRoot
let base: string
fileRootWithImage('multilayer-gzip', (root, ref) => {
  t = root
  base = ref
})

function context(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctr-build-plat-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

const build = (dir: string, extra: string[] = []) => ctr(['build', '--build-arg', `BASE=${base}`, ...extra, dir], {env: t.env, timeoutMs: 240_000})
const platformOf = async (ref: string) => {
  const r = await ctr(['image', 'inspect', ref], {env: t.env})
  const [doc] = JSON.parse(r.stdout) as Array<{Os: string; Architecture: string; Variant?: string}>
  return [doc!.Os, doc!.Architecture, doc!.Variant].filter(Boolean).join('/')
}

describe('build --platform', () => {
  it('--platform linux/amd64 builds here; FROM --platform=$BUILDPLATFORM; the automatic ARGs', async () => {
    const dir = context({
      Dockerfile: [
        'ARG BASE',
        'FROM --platform=$BUILDPLATFORM ${BASE} AS tools',
        'ARG BUILDPLATFORM',
        'ARG TARGETPLATFORM',
        'ARG TARGETOS',
        'ARG TARGETARCH',
        'RUN echo "$BUILDPLATFORM -> $TARGETPLATFORM $TARGETOS $TARGETARCH" > /plat',
        'FROM ${BASE}',
        'COPY --from=tools /plat /plat',
        '',
      ].join('\n'),
    })
    const r = await build(dir, ['--platform', 'linux/amd64', '-t', 'plat/amd64:1'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(await platformOf('plat/amd64:1')).toBe('linux/amd64')
    const run = await ctr(['run', '--rm', 'plat/amd64:1', 'cat', '/plat'], {env: t.env})
    expect(run.stdout).toBe('linux/amd64 -> linux/amd64 linux amd64\n')
  }, 300_000)

  it('cross build: RUN on $BUILDPLATFORM, the result recorded as linux/arm64', async () => {
    const dir = context({
      Dockerfile: ['ARG BASE', 'FROM --platform=$BUILDPLATFORM ${BASE} AS tools', 'ARG TARGETARCH', 'ARG TARGETPLATFORM', 'RUN echo "built for $TARGETPLATFORM $TARGETARCH" > /out', 'FROM scratch', 'COPY --from=tools /out /out', ''].join('\n'),
    })
    const r = await build(dir, ['--platform', 'linux/arm64', '-t', 'plat/arm64:1'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(await platformOf('plat/arm64:1')).toBe('linux/arm64/v8')
    // The tools stage ran here (amd64) and saw the target platform in its ARGs.
    const tools = await build(dir, ['--platform', 'linux/arm64', '--target', 'tools', '-t', 'plat/tools:1'])
    expect(tools.exitCode, tools.stderr).toBe(0)
    expect(await platformOf('plat/tools:1')).toBe('linux/amd64')
    const out = await ctr(['run', '--rm', 'plat/tools:1', 'cat', '/out'], {env: t.env})
    expect(out.stdout).toBe('built for linux/arm64 arm64\n')
  }, 300_000)

  it('a RUN step for a platform this machine cannot execute is refused with one line, exit 1', async () => {
    const dir = context({Dockerfile: 'FROM --platform=linux/arm64 scratch\nCOPY Dockerfile /Dockerfile\nRUN true\n'})
    const r = await build(dir, ['-q'])
    expect(r.exitCode).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/Dockerfile:3: RUN: cannot run a linux\/arm64\/v8 step on this linux\/amd64 machine/)
    const bad = await build(context({Dockerfile: 'FROM --platform=linux scratch\n'}), ['-q'])
    expect(bad.exitCode).toBe(1)
    expect(bad.stderr).toMatch(/Dockerfile:1: FROM --platform: invalid platform "linux"/)
  }, 300_000)
})

describe('build ONBUILD', () => {
  it('the base image triggers run right after FROM, and are not inherited further', async () => {
    const parent = context({
      Dockerfile: ['ARG BASE', 'FROM ${BASE}', 'ONBUILD COPY message.txt /onbuild/message.txt', 'ONBUILD RUN echo "trigger ran" > /onbuild/ran', ''].join('\n'),
    })
    const p = await build(parent, ['-t', 'onbuild/parent:1'])
    expect(p.exitCode, p.stderr).toBe(0)
    const parentCfg = await ctr(['image', 'inspect', '-f', '{{json .Config.OnBuild}}', 'onbuild/parent:1'], {env: t.env})
    expect(JSON.parse(parentCfg.stdout)).toEqual(['COPY message.txt /onbuild/message.txt', 'RUN echo "trigger ran" > /onbuild/ran'])

    const child = context({Dockerfile: 'FROM onbuild/parent:1\nRUN cat /onbuild/ran > /after\n', 'message.txt': 'from the child context\n'})
    const c = await ctr(['build', '-t', 'onbuild/child:1', child], {env: t.env, timeoutMs: 240_000})
    expect(c.exitCode, c.stderr).toBe(0)
    expect(c.stderr).toMatch(/\[stage-0 2\/4\] COPY message.txt \/onbuild\/message.txt/)
    expect(c.stderr).toMatch(/\[stage-0 3\/4\] RUN echo "trigger ran" > \/onbuild\/ran/)
    const run = await ctr(['run', '--rm', 'onbuild/child:1', 'cat', '/onbuild/message.txt', '/after'], {env: t.env})
    expect(run.stdout).toBe('from the child context\ntrigger ran\n')
    const childCfg = await ctr(['image', 'inspect', '-f', '{{json .Config.OnBuild}}', 'onbuild/child:1'], {env: t.env})
    expect(['null', '[]']).toContain(childCfg.stdout.trim())

    // A grandchild has no triggers to run: it builds without message.txt in its context.
    const grand = context({Dockerfile: 'FROM onbuild/child:1\nRUN test ! -e /nothing\n'})
    const g = await ctr(['build', '-q', '-t', 'onbuild/grand:1', grand], {env: t.env, timeoutMs: 240_000})
    expect(g.exitCode, g.stderr).toBe(0)
  }, 300_000)
})
