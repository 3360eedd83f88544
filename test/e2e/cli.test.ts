/**
 * Usage errors through the real binary: one line on stderr, exit code 125 (docker's for its own
 * errors), nothing on stdout, never a stack trace.
 */
import {afterAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot} from '../harness/cli.js'

const t = tempRoot()
afterAll(() => t.cleanup())

describe('usage errors', () => {
  const cases: Array<[string[], RegExp]> = [
    [['run'], /^ctr-ts: Missing 1 required arg: image \(image to run\) \(see ctr-ts run --help\)$/],
    [['stop', '-t', 'abc', 'x'], /^ctr-ts: Parsing --time Expected an integer but received: abc \(see ctr-ts stop --help\)$/],
    [['run', '--bogus', 'img'], /^ctr-ts: Nonexistent flag: --bogus \(see ctr-ts run --help\)$/],
    [['ps', '--format', 'xml'], /^ctr-ts: Expected --format=xml to be one of: table, json \(see ctr-ts ps --help\)$/],
    [['run', '--network', 'bridge', 'img'], /^ctr-ts: unknown network "bridge": use slirp4netns, none or host$/],
    [['run', '--network', 'slirp4netns:mtu=9000', 'img'], /^ctr-ts: unknown slirp4netns option "mtu=9000"/],
    [['pull', 'Bad..Ref'], /^ctr-ts: invalid reference/],
  ]
  for (const [args, want] of cases) {
    it(`ctr-ts ${args.join(' ')}`, async () => {
      const r = await ctr(args, {env: t.env})
      expect(r.exitCode).toBe(125)
      expect(r.stdout).toBe('')
      const lines = r.stderr.trim().split('\n')
      expect(lines, r.stderr).toHaveLength(1)
      expect(lines[0]).toMatch(want)
    })
  }
})
