#!/usr/bin/env node
// Rewrites the README's performance table from the committed bench results: the lines between
//   <!-- bench-table:start -->  and  <!-- bench-table:end -->
// in README.md become a description of the run (machine, tools, date) and the table of
// bench/results/LATEST.json (written by `npm run bench`). Nothing else in the README changes.
//
//   node bench/readme-table.mjs            rewrite README.md
//   node bench/readme-table.mjs --check    exit 1 when README.md is not what LATEST.json gives
import {readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describeMachine, describeTools, markdownTable} from './lib/markdown.mjs'

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..')
const README = join(REPO, 'README.md')
const LATEST = join(REPO, 'bench', 'results', 'LATEST.json')
const START = '<!-- bench-table:start -->'
const END = '<!-- bench-table:end -->'

/** The generated block (between the markers, markers excluded). */
export function readmeBlock(doc) {
  const m = doc.machine
  const load = (m.loadavg ?? [])[0]
  return [
    `Measured by \`npm run bench\` on ${m.date.slice(0, 10)} (${describeMachine(m)}; load average ${load ?? '?'} at the end of the run), ` +
      `side by side with ${describeTools(m)} in the same run (loopback registry, fresh store per pull). ` +
      'Full results and notes: [bench/results/LATEST.md](bench/results/LATEST.md). Ratios are ctr-ts / peer:',
    '',
    markdownTable(doc.rows),
  ].join('\n')
}

/** README text with the block between the markers replaced; throws when the markers are missing. */
export function rewrite(readme, doc) {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} section`)
  return `${readme.slice(0, start + START.length)}\n${readmeBlock(doc)}\n${readme.slice(end)}`
}

function main() {
  const check = process.argv.includes('--check')
  let doc
  try {
    doc = JSON.parse(readFileSync(LATEST, 'utf8'))
  } catch (err) {
    console.error(`readme-table: cannot read ${LATEST} (run npm run bench first): ${err.message}`)
    return 2
  }
  const readme = readFileSync(README, 'utf8')
  const next = rewrite(readme, doc)
  if (check) {
    if (next === readme) return 0
    console.error('readme-table: README.md differs from bench/results/LATEST.json: run node bench/readme-table.mjs')
    return 1
  }
  if (next !== readme) writeFileSync(README, next)
  console.log(`readme-table: README.md ${next === readme ? 'already up to date' : 'updated'} from bench/results/LATEST.json (${doc.machine.date})`)
  return 0
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main()
