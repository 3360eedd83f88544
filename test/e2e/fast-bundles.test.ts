/**
 * The commands run most often start from a bundle of their own (dist/bundle/fast/, picked by
 * src/cli/command-select.ts); everything else, and help, from the whole CLI's. Both must behave
 * the same: output, errors, exit codes. And a reader that goes away ends the command quietly.
 */
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {CLI, REPO_ROOT, ctr, tempRoot} from '../harness/cli.js'

const t = tempRoot()
afterAll(() => t.cleanup())

const index = JSON.parse(readFileSync(join(REPO_ROOT, 'dist', 'bundle', 'manifest', 'index.json'), 'utf8')) as {
  commands: Record<string, string[]>
  fast: Record<string, string>
}

describe('fast bundles', () => {
  it('every command with a bundle of its own is a command, and its bundle was built', () => {
    expect(Object.keys(index.fast)).toEqual(expect.arrayContaining(['run', 'ps', 'images', 'version', 'rm', 'stop']))
    for (const [id, dir] of Object.entries(index.fast)) {
      expect(Object.hasOwn(index.commands, id), id).toBe(true)
      expect(existsSync(join(REPO_ROOT, 'dist', 'bundle', 'fast', dir, 'main.js')), id).toBe(true)
    }
  })

  it('every bundled file is ASCII-only (one other character makes Node decode and V8 compile the whole file as two-byte text)', () => {
    const files = readdirSync(join(REPO_ROOT, 'dist', 'bundle'), {recursive: true, encoding: 'utf8'}).filter((f) => f.endsWith('.js')).map((f) => join('bundle', f))
    files.push(join('layer', 'unpack-main.js'), join('layer', 'diff-tar-main.js'))
    expect(files.length).toBeGreaterThan(20)
    for (const f of files) {
      const text = readFileSync(join(REPO_ROOT, 'dist', f), 'latin1')
      expect({f, ascii: !/[^\x00-\x7f]/.test(text)}).toEqual({f, ascii: true})
    }
  })

  it('the same output, errors and exit codes from either bundle', async () => {
    const lines = [
      ['version'],
      ['ps', '-a', '--format', '{{.ID}} {{.Names}}'],
      ['container', 'ls', '-a', '--no-trunc'],
      ['images', '--format', 'json'],
      ['ps', '--bogus'],
      ['rm', 'no-such-container'],
      ['inspect', 'no-such-thing'],
      ['run', '--bogus', 'x'],
      ['stop'],
      ['ps', '--help'],
    ]
    for (const args of lines) {
      const fast = await ctr(args, {env: t.env})
      const whole = await ctr(args, {env: {...t.env, CTR_TS_FAST_BUNDLES: '0'}})
      expect({args, code: fast.exitCode, out: fast.stdout, err: fast.stderr}).toEqual({args, code: whole.exitCode, out: whole.stdout, err: whole.stderr})
    }
  })

  it('a closed stdout (`ctr-ts ps | head -1` after head exited) ends the command quietly with 141, as SIGPIPE ends docker', async () => {
    for (const args of [['version'], ['ps', '-a'], ['ps', '--help']]) {
      const child = spawn(process.execPath, [CLI, ...args], {env: {...process.env, ...t.env}, stdio: ['ignore', 'pipe', 'pipe']})
      child.stdout.destroy() // the reader is gone before ctr-ts writes
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
      expect({args, code, stderr}).toEqual({args, code: 141, stderr: ''})
    }
  })
})
