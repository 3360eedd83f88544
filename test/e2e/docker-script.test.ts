/**
 * Issue 16's "done when": a shell script written with docker's syntax, of the kind CI jobs use,
 * runs unchanged against ctr-ts. The script calls `docker`; a `docker` in PATH that runs ctr-ts
 * is all that differs (what `alias docker=ctr-ts` does for a person).
 */
import {spawn} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {expect, it} from 'vitest'
import {CLI, type TempRoot} from '../harness/cli.js'
import {fileRootWithImage} from '../harness/file-root.js'

let t: TempRoot
let busybox: string

fileRootWithImage('busybox', (root, ref) => {
  t = root
  busybox = ref
})

// Written as for docker: health wait, ps -q --filter, inspect -f, cp both ways, logs --since,
// exit codes through run and wait, label filters, rm -f.
const SCRIPT = String.raw`
set -eu
IMAGE="$1"
docker run -d --name web --label role=web --health-cmd 'test -e /tmp/ready' --health-interval 300ms "$IMAGE" \
  sh -c 'echo started; touch /tmp/ready; exec sleep 600' >/dev/null
for i in $(seq 1 100); do
  [ "$(docker inspect -f '{{.State.Health.Status}}' web)" = healthy ] && break
  sleep 0.2
done
echo "health=$(docker inspect -f '{{.State.Health.Status}}' web)"
echo "running=$(docker inspect --format '{{.State.Running}}' web)"
id=$(docker ps -q --filter label=role=web)
[ "$id" = "$(docker inspect -f '{{.Id}}' web | cut -c1-12)" ] && echo "ps-filter=ok"
echo hello > "$WORK/in.txt"
docker cp "$WORK/in.txt" web:/tmp/in.txt
docker exec web cat /tmp/in.txt
docker cp web:/tmp/in.txt "$WORK/out.txt"
echo "copied=$(cat "$WORK/out.txt")"
docker logs --since 10m web
if docker run --name job "$IMAGE" sh -c 'exit 3'; then echo "run=0"; else echo "run=$?"; fi
echo "wait=$(docker wait job)"
echo "exited=$(docker ps -a -q --filter status=exited --filter name=job | wc -l)"
docker inspect nosuch >/dev/null 2>&1 || echo "inspect-missing=$?"
docker rm -f web job >/dev/null
echo "left=$(docker ps -a -q | wc -l)"
`

function sh(script: string, args: string[], env: Record<string, string>): Promise<{code: number; out: string; err: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script, 'sh', ...args], {env: {...process.env, ...env, NO_COLOR: '1'}})
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code: code ?? -1, out, err}))
  })
}

it('a CI script written for docker runs unchanged', async () => {
  const work = mkdtempSync(join(tmpdir(), 'ctr-ts-script-'))
  const bin = join(work, 'bin')
  mkdirSync(bin)
  writeFileSync(join(bin, 'docker'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`)
  chmodSync(join(bin, 'docker'), 0o755)
  const r = await sh(SCRIPT, [busybox], {...t.env, WORK: work, PATH: `${bin}:${process.env.PATH ?? ''}`})
  expect(r.code, r.err).toBe(0)
  expect(r.out).toBe(
    [
      'health=healthy',
      'running=true',
      'ps-filter=ok',
      'hello',
      'copied=hello',
      'started',
      'run=3',
      'wait=3',
      'exited=1',
      'inspect-missing=1',
      'left=0',
      '',
    ].join('\n'),
  )
}, 120_000)
