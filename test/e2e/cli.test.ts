/**
 * Usage errors through the real binary: one line on stderr, nothing on stdout, never a stack
 * trace; exit code 125 for run/create/exec and for a flag the parser refuses, 1 for any other
 * command's error (as docker).
 */
import {afterAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot} from '../harness/cli.js'

const t = tempRoot()
afterAll(() => t.cleanup())

describe('usage errors', () => {
  const cases: Array<[string[], RegExp, number]> = [
    [['run'], /^ctr-ts: Missing 1 required arg: image \(image to run\) \(see ctr-ts run --help\)$/, 125],
    [['stop', '-t', 'abc', 'x'], /^ctr-ts: Parsing --time Expected an integer but received: abc \(see ctr-ts stop --help\)$/, 125],
    [['run', '--bogus', 'img'], /^ctr-ts: Nonexistent flag: --bogus \(see ctr-ts run --help\)$/, 125],
    [['ps', '--bogus'], /^ctr-ts: Nonexistent flag: --bogus \(see ctr-ts ps --help\)$/, 125],
    [['ps', '--filter', 'nope=1'], /^ctr-ts: invalid filter 'nope'$/, 1],
    [['ps', '--format', '{{.Nope'], /^ctr-ts: template parsing error: template: :1: unclosed action$/, 1],
    [['run', '--network', 'bridge', 'img'], /^ctr-ts: unknown network "bridge": use slirp4netns, none or host$/, 125],
    [['run', '--network', 'slirp4netns:mtu=9000', 'img'], /^ctr-ts: unknown slirp4netns option "mtu=9000"/, 125],
    [['pull', 'Bad..Ref'], /^ctr-ts: invalid reference/, 1],
    [['inspect'], /^ctr-ts: "inspect" requires at least 1 argument$/, 1],
  ]
  for (const [args, want, code] of cases) {
    it(`ctr-ts ${args.join(' ')}`, async () => {
      const r = await ctr(args, {env: t.env})
      expect(r.exitCode).toBe(code)
      expect(r.stdout).toBe('')
      const lines = r.stderr.trim().split('\n')
      expect(lines, r.stderr).toHaveLength(1)
      expect(lines[0]).toMatch(want)
    })
  }
})
