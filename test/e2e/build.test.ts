/**
 * `build` end to end as the unprivileged user: the multi-stage fixture Dockerfile (busybox stages,
 * COPY --from, ARG, USER, WORKDIR, a deleted file and a replaced directory) builds through ctr-ts's
 * own containers; the image runs with exactly the expected tree; a rebuild is fully cached; a
 * change in the context rebuilds from its COPY; the tagged image pushes.
 */
import {execFileSync} from 'node:child_process'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ctr, REPO_ROOT, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {fileRootWithImage} from '../harness/file-root.js'

let t: TempRoot
let base: string
fileRootWithImage('multilayer-gzip', (root, ref) => {
  t = root
  base = ref
})

function context(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctr-build-'))
  cpSync(join(REPO_ROOT, 'test', 'fixtures', 'build'), dir, {recursive: true})
  return dir
}

const build = (dir: string, extra: string[] = []) => ctr(['build', '--build-arg', `BASE=${base}`, '--build-arg', 'GREETING=hi', ...extra, dir], {env: t.env, timeoutMs: 240_000})

describe('build', () => {
  let dir: string
  const tag = `${testEnv().plainRegistry}/built/app:1`

  it('builds the multi-stage fixture; the image has exactly the expected tree', async () => {
    dir = context()
    const r = await build(dir, ['-t', 'built/app:1', '-t', tag])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(r.stderr).toMatch(/#\d+ \[builder 4\/4\] RUN mkdir -p out\/lib/)
    expect(r.stderr).toMatch(/#\d+ \[stage-1 6\/6\] RUN echo "\$GREETING as \$\(id -u\)"/)
    expect(r.stderr).toMatch(/#\d+ DONE \d+\.\ds/)

    const tree = await ctr(['run', '--rm', 'built/app:1', 'sh', '-c', 'pwd; cd / && find opt/app etc/app data/dir home/app/made-by | sort | while read f; do stat -c "%n %u:%g %a %F" "$f"; done; echo $(ls /data); cat /home/app/made-by; id -u'], {env: t.env})
    expect(tree.exitCode, tree.stderr).toBe(0)
    expect(tree.stdout.split('\n')).toEqual([
      '/opt/app',
      'data/dir 0:0 755 directory',
      'data/dir/only 0:0 644 regular file',
      'etc/app 0:0 755 directory',
      'etc/app/config.txt 0:0 640 regular file',
      'home/app/made-by 1000:1000 644 regular file',
      'opt/app 0:0 755 directory',
      'opt/app/app.sh 1000:1000 750 regular file',
      'opt/app/greeting.txt 1000:1000 644 regular file',
      'opt/app/lib 1000:1000 755 directory',
      'opt/app/lib/lib.txt 1000:1000 644 regular file',
      'abs dangling dated dir hard long owned2000 rel suid',
      'hi as 1000',
      '1000',
      '',
    ])
    expect(tree.stdout).not.toMatch(/\bkeep\b/)
    const cmd = await ctr(['run', '--rm', 'built/app:1'], {env: t.env})
    expect(cmd.stdout).toBe('hi from the builder\n')

    const insp = await ctr(['image', 'inspect', 'built/app:1'], {env: t.env})
    const [doc] = JSON.parse(insp.stdout) as Array<{Config: {Env: string[]; WorkingDir: string; User: string; ExposedPorts: object; Labels: Record<string, string>}; RootFS: {Layers: string[]}}>
    expect(doc!.Config.WorkingDir).toBe('/opt/app')
    expect(doc!.Config.User).toBe('app')
    expect(doc!.Config.Env).toContain('APP_HOME=/opt/app')
    expect(doc!.Config.Env.some((e) => e.startsWith('GREETING'))).toBe(false)
    expect(Object.keys(doc!.Config.ExposedPorts)).toEqual(['8080/tcp'])
    expect(doc!.Config.Labels['org.example.stage']).toBe('final')
  }, 300_000)

  it('a second build is fully cached and makes the same image', async () => {
    const first = await build(dir, ['-q'])
    const again = await build(dir)
    expect(again.exitCode, again.stderr).toBe(0)
    const steps = again.stderr.match(/^#\d+ \[[^\]]+\] (RUN|COPY|WORKDIR)/gm) ?? []
    const cached = again.stderr.match(/^#\d+ CACHED$/gm) ?? []
    expect(steps.length).toBe(8)
    expect(cached.length).toBe(8)
    expect(again.stdout).toBe(first.stdout)
  }, 300_000)

  it('a change in the context rebuilds from its COPY on', async () => {
    writeFileSync(join(dir, 'config.txt'), 'setting=2\n')
    writeFileSync(join(dir, 'ignored.txt'), 'changed but ignored\n')
    const r = await build(dir, ['-t', 'built/app:2'])
    expect(r.exitCode, r.stderr).toBe(0)
    const lines = r.stderr.split('\n')
    const status = (re: RegExp) => {
      const i = lines.findIndex((l) => re.test(l))
      const id = lines[i]!.split(' ')[0]
      return lines.slice(i + 1).find((l) => l.startsWith(`${id} CACHED`) || l.startsWith(`${id} DONE`))!.split(' ')[1]
    }
    expect(status(/COPY src\//)).toBe('CACHED')
    expect(status(/COPY --from=builder/)).toBe('CACHED')
    expect(status(/COPY --chmod=640 config.txt/)).toBe('DONE')
    expect(status(/RUN rm \/data\/keep/)).toBe('DONE')
    const cat = await ctr(['run', '--rm', '-u', '0', 'built/app:2', 'cat', '/etc/app/config.txt'], {env: t.env})
    expect(cat.stdout).toBe('setting=2\n')
  }, 300_000)

  it('the layer of the RUN that deletes has a whiteout and an opaque directory', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ctr-build-save-')), 'img.tar')
    const s = await ctr(['save', '-o', out, 'built/app:1'], {env: t.env})
    expect(s.exitCode, s.stderr).toBe(0)
    const at = join(out, '..')
    execFileSync('tar', ['xf', out, '-C', at])
    const [m] = JSON.parse(readFileSync(join(at, 'manifest.json'), 'utf8')) as Array<{Layers: string[]}>
    const list = (i: number) => execFileSync('tar', ['tf', join(at, m!.Layers.at(i)!)], {encoding: 'utf8'}).trim().split('\n')
    expect(list(-2)).toEqual(['data/', 'data/.wh.keep', 'data/dir/', 'data/dir/.wh..wh..opq', 'data/dir/only'])
    expect(list(-1)).toEqual(['home/', 'home/app/', 'home/app/made-by'])
  }, 120_000)

  it('-t then push works', async () => {
    const r = await ctr(['push', '-q', tag], {env: t.env, timeoutMs: 120_000})
    expect(r.exitCode, r.stderr).toBe(0)
  }, 120_000)

  it('a parse error names the file and line and exits 1', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'ctr-build-bad-'))
    writeFileSync(join(bad, 'Dockerfile'), `FROM ${base}\n\nRUN true\nFROBNICATE x\n`)
    const r = await ctr(['build', bad], {env: t.env})
    expect(r.exitCode).toBe(1)
    expect(r.stderr.trim()).toBe("ctr-ts: Dockerfile:4: unknown instruction: FROBNICATE")
    const fails = mkdtempSync(join(tmpdir(), 'ctr-build-fail-'))
    writeFileSync(join(fails, 'Dockerfile'), `FROM ${base}\nRUN exit 3\n`)
    const f = await ctr(['build', fails], {env: t.env})
    expect(f.exitCode).toBe(1)
    expect(f.stderr).toMatch(/did not complete successfully: exit code: 3/)
    const mount = mkdtempSync(join(tmpdir(), 'ctr-build-mount-'))
    writeFileSync(join(mount, 'Dockerfile'), `FROM ${base}\nRUN --mount=type=cache,target=/c true\n`)
    const m = await ctr(['build', mount], {env: t.env})
    expect(m.exitCode).toBe(1)
    expect(m.stderr.trim()).toBe('ctr-ts: Dockerfile:2: RUN --mount is not supported')
  }, 120_000)

  it('--target builds only the stages it needs; ADD unpacks a tar and fetches a URL; globs, .dockerignore, exec-form RUN, --label, --iidfile', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/remote.txt' ? 200 : 404)
      res.end(req.url === '/remote.txt' ? 'from the web\n' : '')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/remote.txt`
      const d = mkdtempSync(join(tmpdir(), 'ctr-build-feat-'))
      mkdirSync(join(d, 'tree', 'sub'), {recursive: true})
      writeFileSync(join(d, 'tree', 'sub', 'inner.txt'), 'inner\n')
      execFileSync('tar', ['czf', join(d, 'files.tar.gz'), '-C', join(d, 'tree'), '.'])
      writeFileSync(join(d, 'a.txt'), 'a\n')
      writeFileSync(join(d, 'b.txt'), 'b\n')
      writeFileSync(join(d, 'secret.txt'), 'secret\n')
      writeFileSync(join(d, '.dockerignore'), 'secret.txt\n')
      writeFileSync(
        join(d, 'Containerfile'),
        [
          'ARG BASE',
          'FROM ${BASE} AS base',
          'FROM base AS extra',
          'ADD files.tar.gz /unpacked/',
          `ADD ${url} /fetched/`,
          'SHELL ["/bin/sh", "-ec"]',
          'ENV X=1 Y="two words"',
          'RUN ["/bin/sh", "-c", "echo exec-form $X $Y > /exec.txt"]',
          'COPY *.txt /globbed/',
          'HEALTHCHECK --interval=5s CMD true',
          'FROM base AS other',
          'RUN echo never > /never',
          '',
        ].join('\n'),
      )
      const iid = join(d, 'iid')
      const r = await ctr(['build', '--build-arg', `BASE=${base}`, '--build-arg', 'UNUSED=1', '--target', 'extra', '--label', 'team=ci', '--iidfile', iid, '-t', 'built/extra:1', d], {env: t.env, timeoutMs: 240_000})
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stderr).not.toMatch(/never/)
      expect(r.stderr).toContain('[Warning] One or more build-args [UNUSED] were not consumed')
      expect(readFileSync(iid, 'utf8')).toBe(r.stdout.trim())
      const run = await ctr(['run', '--rm', 'built/extra:1', 'sh', '-c', 'cat /unpacked/sub/inner.txt /fetched/remote.txt /exec.txt; stat -c "%a" /fetched/remote.txt; ls /globbed'], {env: t.env})
      expect(run.stdout).toBe('inner\nfrom the web\nexec-form 1 two words\n600\na.txt\nb.txt\n')
      const insp = await ctr(['image', 'inspect', 'built/extra:1'], {env: t.env})
      const [doc] = JSON.parse(insp.stdout) as Array<{Config: {Labels: Record<string, string>; Env: string[]}}>
      expect(doc!.Config.Labels.team).toBe('ci')
      expect(doc!.Config.Env).toContain('Y=two words')
    } finally {
      server.close()
    }
  }, 300_000)
})
