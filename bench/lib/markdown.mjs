// Formatting of bench results shared by the table printed at the end of a run, bench/results/LATEST.md
// and the README's performance table (bench/readme-table.mjs). No imports: readme-table.mjs uses
// it without loading the harness.
import {formatGoal, withGoals} from './goals.mjs'

/** A value in its unit, as people read it: `652 ms`, `1.7 MiB`, `1535 MiB/s`. */
export function formatValue(v, unit) {
  if (v === null || v === undefined) return 'n/a'
  switch (unit) {
    case 'ms':
      return v >= 10000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)} ms`
    case 'KiB':
      return v >= 10240 ? `${(v / 1024).toFixed(1)} MiB` : `${v.toFixed(0)} KiB`
    case 'MiB/s':
      return `${v.toFixed(0)} MiB/s`
    default:
      return `${v} ${unit}`
  }
}

/** `1.25x`, with `(higher is better)` for throughputs. */
export function formatRatio(r) {
  if (r.ratio === null || r.ratio === undefined) return ''
  return `${r.ratio.toFixed(2)}x${r.better === 'higher' ? ' (higher is better)' : ''}`
}

/** One line describing the machine and the tools of a run, from its `machine` object. */
export function describeMachine(m) {
  const parts = [
    m.cpus ? `${m.cores ?? m.cpus.split(' ')[0]} cores (${m.cpus.replace(/^\d+ x /, '')})` : null,
    m.memory ? `${m.memory} RAM` : null,
    m.os ?? null,
    m.kernel ? `kernel ${m.kernel}` : null,
    m.node ? `Node ${m.node}` : null,
  ].filter(Boolean)
  return parts.join(', ')
}

/** The versions of the peers and helpers, `podman 4.3.1, skopeo 1.9.3, ...` (missing ones left out). */
export function describeTools(m) {
  const strip = (s) => (s ? s.replace(/^.*?version:?\s*/i, '') : null)
  return [
    ['podman', m.podman],
    ['skopeo', m.skopeo],
    ['runc', m.runc],
    ['fuse-overlayfs', m.fuseOverlayfs],
    ['slirp4netns', m.slirp4netns],
  ]
    .filter(([, v]) => v)
    .map(([name, v]) => `${name} ${strip(v)}`)
    .join(', ')
}

/** A Markdown table of result rows: what, ctr-ts, peer, ratio ctr-ts / peer, the issue's goal for it. */
export function markdownTable(rows) {
  const lines = ['| bench | what | ctr-ts | peer | ratio ctr-ts/peer | goal |', '| --- | --- | --- | --- | --- | --- |']
  for (const r of withGoals(rows)) {
    const peer = r.peerName ? `${r.peerName} ${formatValue(r.peer, r.unit)}` : ''
    lines.push(`| ${r.bench} | ${r.metric} | ${formatValue(r.ctrTs, r.unit)} | ${peer} | ${formatRatio(r)} | ${formatGoal(r)} |`)
  }
  return lines.join('\n')
}

/** bench/results/LATEST.md for a whole run (`npm run bench`): machine, tools, table, notes. */
export function latestMarkdown(doc) {
  const m = doc.machine
  const opts = [doc.options?.runs ? `--runs ${doc.options.runs}` : null].filter(Boolean).join(' ')
  return [
    '# ctr-ts benchmark results',
    '',
    `Written by \`npm run bench${opts ? ` -- ${opts}` : ''}\` (bench/all.mjs); the README's performance table is generated from`,
    'LATEST.json next to this file by `node bench/readme-table.mjs`. Ratios are ctr-ts / peer.',
    '',
    `- date: ${m.date}${m.commit ? `, commit ${m.commit}` : ''}`,
    `- machine: ${describeMachine(m)}`,
    `- load average at the end (1/5/15 min): ${(m.loadavg ?? []).join(' / ')} — other work on the machine skews timings`,
    `- tools: ${describeTools(m)}`,
    `- duration: ${doc.seconds} s`,
    '',
    markdownTable(doc.rows),
    '',
    ...(doc.notes ?? []).map((n) => `- ${n}`),
    '',
  ].join('\n')
}
