// The goals of issue 12, matched to the rows any bench reports (by bench, metric text and peer),
// so the summary table says for each ratio what it should be and whether it is. A row that
// carries its own `goal` keeps it. No imports: readme-table.mjs uses it without the harness.

/** {bench, metric (RegExp), peer (RegExp, optional), goal: the ratio ctr-ts/peer to reach} */
export const GOALS = [
  {bench: 'startup', metric: /\(vs node -e 0\)/, goal: 1.5},
  {bench: 'pull', metric: /^cold pull/, peer: /^podman/, goal: 0.7},
  {bench: 'run', metric: /^run --rm/, peer: /^podman/, goal: 0.8},
  {bench: 'run', metric: /^run -d/, peer: /^podman/, goal: 0.8},
  {bench: 'run', metric: /^(stop|rm)\b/, peer: /^podman/, goal: 0.8},
  {bench: 'run', metric: /^ps\b.*\b50\b/, peer: /^podman/, goal: 1},
  {bench: 'unpack', metric: /\d-file layer/, peer: /^GNU tar/, goal: 1.1},
  {bench: 'net', metric: /vs host loopback/, goal: 0.6},
]

/** The rows with `goal` set where one of GOALS applies (rows that have one keep theirs). */
export function withGoals(rows) {
  return rows.map((r) => {
    if (r.goal !== undefined && r.goal !== null) return r
    const g = GOALS.find((x) => x.bench === r.bench && x.metric.test(r.metric) && (!x.peer || x.peer.test(r.peerName ?? '')))
    return g ? {...r, goal: g.goal} : r
  })
}

/** true / false when the row has a goal and a ratio, else null. */
export function goalMet(r) {
  if (typeof r.goal !== 'number' || typeof r.ratio !== 'number') return null
  return r.better === 'higher' ? r.ratio >= r.goal : r.ratio <= r.goal
}

/** `≤ 0.70x: met` / `≥ 0.60x: NOT met` / '' for a row without a goal. */
export function formatGoal(r) {
  if (typeof r.goal !== 'number') return ''
  const met = goalMet(r)
  return `${r.better === 'higher' ? '≥' : '≤'} ${r.goal.toFixed(2)}x${met === null ? '' : met ? ': met' : ': NOT met'}`
}
