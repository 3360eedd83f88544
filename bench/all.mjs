#!/usr/bin/env node
// Runs every bench (startup, pull, run, net, unpack, health) in one go and prints one summary table
// (every row each bench reports, with issue 12's goal and whether it is met: lib/goals.mjs); the JSON
// (every bench's details + the table) goes to bench/results/all-<time>.json and all-latest.json,
// and, for a complete run, to the committed bench/results/LATEST.json + LATEST.md (with the
// machine described) that the README's table is generated from (node bench/readme-table.mjs).
//
//   npm run bench -- [--runs N] [--quick] [--no-peers]      (or: node bench/all.mjs ...)
import {benchHealth} from './health.mjs'
import {benchNet} from './net.mjs'
import {benchPull} from './pull.mjs'
import {benchRun} from './run.mjs'
import {benchStartup} from './startup.mjs'
import {benchUnpack} from './unpack.mjs'
import {goalMet, withGoals} from './lib/goals.mjs'
import {runStandalone} from './lib/main.mjs'
import {log} from './lib/report.mjs'

const BENCHES = [
  ['startup', benchStartup],
  ['pull', benchPull],
  ['run', benchRun],
  ['net', benchNet],
  ['unpack', benchUnpack],
  ['health', benchHealth],
]

async function all(options) {
  const rows = []
  const notes = []
  const errors = []
  const benches = {}
  for (const [name, fn] of BENCHES) {
    const started = Date.now()
    log(`=== ${name}`)
    try {
      const r = await fn(options)
      benches[name] = {seconds: Math.round((Date.now() - started) / 100) / 10, ...r}
      rows.push(...r.rows)
      notes.push(...(r.notes ?? []).map((n) => `${name}: ${n}`))
      errors.push(...(r.errors ?? []).map((e) => `${name}: ${e}`))
    } catch (err) {
      errors.push(`${name}: ${err.message}`)
      log(`${name} failed: ${err.message}`)
    }
  }
  for (const e of errors) notes.push(`ERROR ${e}`)
  // every row as its bench reported it (whatever rows a bench adds are shown), with issue 12's
  // goal where one applies (lib/goals.mjs)
  const table = withGoals(rows)
  const judged = table.filter((r) => goalMet(r) !== null)
  const missed = judged.filter((r) => goalMet(r) === false)
  notes.push(`goals (issue 12): ${judged.length - missed.length} of ${judged.length} met${missed.length ? `; not met: ${missed.map((r) => `${r.bench} ${r.metric} (${r.ratio}x, goal ${r.goal}x)`).join('; ')}` : ''}`)
  return {rows: table, notes, errors, benches}
}

await runStandalone('all', import.meta.url, all, {latest: true})
