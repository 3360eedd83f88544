import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
// @ts-expect-error: plain ESM scripts of bench/, without type declarations
import {readmeBlock, rewrite} from '../../bench/readme-table.mjs'
// @ts-expect-error: plain ESM scripts of bench/, without type declarations
import {latestMarkdown, markdownTable} from '../../bench/lib/markdown.mjs'
// @ts-expect-error plain JavaScript module
import {formatGoal, goalMet, withGoals} from '../../bench/lib/goals.mjs'
import {REPO_ROOT} from '../harness/cli.js'

const doc = {
  machine: {date: '2026-01-02T03:04:05.000Z', commit: 'abc1234', node: 'v24.0.0', kernel: '6.1.0', cpus: '2 x AMD EPYC', cores: 2, memory: '4.0 GiB', os: 'Debian GNU/Linux 12 (bookworm)', loadavg: [0.5, 0.4, 0.3], podman: 'podman version 4.3.1', skopeo: null, runc: 'runc version 1.1.5', fuseOverlayfs: 'fuse-overlayfs: version 1.10', slirp4netns: 'slirp4netns version 1.2.0'},
  options: {quick: false, peers: true},
  seconds: 120,
  rows: [
    {bench: 'run', metric: 'run --rm IMAGE true', unit: 'ms', ctrTs: 309, peer: 208, peerName: 'podman', ratio: 1.49, better: 'lower'},
    {bench: 'net', metric: 'throughput', unit: 'MiB/s', ctrTs: 1535, peer: 1235, peerName: 'podman', ratio: 1.24, better: 'higher'},
    {bench: 'run', metric: 'shim RSS', unit: 'KiB', ctrTs: 1680, peer: null, peerName: null, ratio: null, better: 'lower'},
  ],
  notes: ['run: a note'],
}

describe('bench results → Markdown', () => {
  it('a table row per result, units readable, the direction said for throughputs', () => {
    expect(markdownTable(doc.rows).split('\n')).toEqual([
      '| bench | what | ctr-ts | peer | ratio ctr-ts/peer | goal |',
      '| --- | --- | --- | --- | --- | --- |',
      '| run | run --rm IMAGE true | 309 ms | podman 208 ms | 1.49x | ≤ 0.80x: NOT met |',
      '| net | throughput | 1535 MiB/s | podman 1235 MiB/s | 1.24x (higher is better) |  |',
      '| run | shim RSS | 1680 KiB |  |  |  |',
    ])
  })

  it('issue 12\'s goals are matched to the rows any bench reports; a row\'s own goal wins', () => {
    const rows = withGoals([
      {bench: 'pull', metric: 'cold pull, 3-layer fixture', unit: 'ms', ctrTs: 600, peer: 1000, peerName: 'podman', ratio: 0.6, better: 'lower'},
      {bench: 'pull', metric: 'cold pull, 3-layer fixture', unit: 'ms', ctrTs: 600, peer: 100, peerName: 'skopeo', ratio: 6, better: 'lower'},
      {bench: 'net', metric: 'port-forward throughput vs host loopback', unit: 'MiB/s', ctrTs: 50, peer: 100, peerName: 'host', ratio: 0.5, better: 'higher'},
      {bench: 'run', metric: 'ps -a with 50 containers', unit: 'ms', ctrTs: 90, peer: 100, peerName: 'podman', ratio: 0.9, better: 'lower', goal: 0.5},
    ])
    expect(rows.map((r: {goal?: number}) => r.goal)).toEqual([0.7, undefined, 0.6, 0.5])
    expect(rows.map(goalMet)).toEqual([true, null, false, false])
    expect(formatGoal(rows[2])).toBe('≥ 0.60x: NOT met')
  })

  it('LATEST.md describes the machine, the load, the tools and the commit', () => {
    const md = latestMarkdown(doc) as string
    expect(md).toContain('- machine: 2 cores (AMD EPYC), 4.0 GiB RAM, Debian GNU/Linux 12 (bookworm), kernel 6.1.0, Node v24.0.0')
    expect(md).toContain('- load average at the end (1/5/15 min): 0.5 / 0.4 / 0.3')
    expect(md).toContain('- tools: podman 4.3.1, runc 1.1.5, fuse-overlayfs 1.10, slirp4netns 1.2.0')
    expect(md).toContain('commit abc1234')
    expect(md).toContain('- run: a note')
  })
})

describe('node bench/readme-table.mjs', () => {
  it('replaces only the lines between the markers, and is idempotent', () => {
    const readme = 'intro\n<!-- bench-table:start -->\nold table\n<!-- bench-table:end -->\nafter\n'
    const once = rewrite(readme, doc) as string
    expect(once).toBe(`intro\n<!-- bench-table:start -->\n${readmeBlock(doc)}\n<!-- bench-table:end -->\nafter\n`)
    expect(rewrite(once, doc)).toBe(once)
    expect(once).toContain('| run | run --rm IMAGE true | 309 ms | podman 208 ms | 1.49x |')
  })

  it('refuses a README without the markers', () => {
    expect(() => rewrite('no markers\n', doc)).toThrow(/bench-table:start/)
  })

  it('the committed README table is the one LATEST.json gives', () => {
    const latest = JSON.parse(readFileSync(join(REPO_ROOT, 'bench', 'results', 'LATEST.json'), 'utf8')) as unknown
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
    expect(rewrite(readme, latest)).toBe(readme)
  })
})
