// Entry-point plumbing shared by the bench scripts: run as an unprivileged user (ctr-ts is
// rootless; started as root, a script re-runs itself as CTR_TS_BENCH_USER, default ctrdev or
// ctrtest), parse the common options, print the table and write the JSON results.
import {spawn, spawnSync} from 'node:child_process'
import {chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {BENCH, harnessBuildDir} from './harness.mjs'
import {formatTable, log, machineInfo, writeLatest, writeResult} from './report.mjs'

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

export const USAGE = `options:
  --runs N        iterations per timed measurement (default: per bench)
  --quick         fewer iterations and smaller transfers (a smoke run)
  --no-peers      measure ctr-ts only (skip podman, skopeo, GNU tar)
  --only GROUPS   the groups (rows) of a bench to run, comma-separated (bench/rootfs.mjs: start, memory, fileio)
  --user NAME     when started as root, the user to run as (default $CTR_TS_BENCH_USER, ctrdev, ctrtest)
  -h, --help`

export function parseOptions(argv) {
  const {values} = parseArgs({
    args: argv,
    options: {
      runs: {type: 'string'},
      quick: {type: 'boolean', default: false},
      'no-peers': {type: 'boolean', default: false},
      user: {type: 'string'},
      only: {type: 'string'},
      help: {type: 'boolean', short: 'h', default: false},
    },
    strict: true,
  })
  const runs = values.runs === undefined ? undefined : Number(values.runs)
  if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs: expected a positive integer, got ${values.runs}`)
  return {runs, quick: values.quick, peers: !values['no-peers'], user: values.user, only: values.only, help: values.help}
}

function subIdsOf(name) {
  const r = spawnSync('grep', ['-q', `^${name}:`, '/etc/subuid'])
  return r.status === 0
}

function pickUser(wanted) {
  const candidates = wanted ? [wanted] : [process.env.CTR_TS_BENCH_USER, 'ctrdev', 'ctrtest'].filter(Boolean)
  for (const name of candidates) {
    const r = spawnSync('getent', ['passwd', name], {encoding: 'utf8'})
    if (r.status !== 0) continue
    const f = r.stdout.trim().split(':')
    if (!subIdsOf(name)) continue
    return {name, uid: Number(f[2]), gid: Number(f[3]), home: f[5]}
  }
  throw new Error(`no unprivileged user with a /etc/subuid range to run the benches as (tried ${candidates.join(', ')}); create one or pass --user`)
}

/** As root: re-run `script argv` as the bench user, copy its JSON results into bench/results. */
async function reexecAsUser(script, argv, wanted) {
  harnessBuildDir() // compile the harness while we can write the repository
  const user = pickUser(wanted)
  const out = mkdtempSync('/tmp/ctr-ts-bench-out-')
  chownSync(out, user.uid, user.gid)
  const path = [...new Set([dirname(process.execPath), ...SYSTEM_DIRS])].join(':')
  const env = [`PATH=${path}`, `HOME=${user.home}`, `USER=${user.name}`, `LOGNAME=${user.name}`, `LANG=${process.env.LANG || 'C.UTF-8'}`, `CTR_TS_BENCH_OUT=${out}`]
  log(`running as ${user.name} (uid ${user.uid}); started as root`)
  const child = spawn('runuser', ['-u', user.name, '--', 'env', '-i', ...env, process.execPath, script, ...argv], {cwd: '/tmp', stdio: 'inherit'})
  const forward = (sig) => () => child.kill(sig)
  process.on('SIGINT', forward('SIGINT'))
  process.on('SIGTERM', forward('SIGTERM'))
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  const results = join(BENCH, 'results')
  mkdirSync(results, {recursive: true})
  const files = readdirSync(out)
  for (const f of files) copyFileSync(join(out, f), join(results, f))
  rmSync(out, {recursive: true, force: true})
  if (files.length > 0) log(`results copied to ${results}: ${files.join(', ')}`)
  return code
}

/**
 * The `node bench/X.mjs` entry point: `fn(options)` returns {rows, ...details}; prints the
 * table, writes the JSON, sets the exit code. With `latest` (bench/all.mjs), a complete run
 * (not --quick, with peers, no errors) also writes results/LATEST.json and LATEST.md.
 */
export async function runStandalone(name, scriptUrl, fn, {latest = false} = {}) {
  let options
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (err) {
    console.error(`${err.message}\n${USAGE}`)
    process.exitCode = 2
    return
  }
  if (options.help) {
    console.log(`node bench/${name}.mjs [options]\n${USAGE}`)
    return
  }
  if (process.getuid?.() === 0) {
    process.exitCode = await reexecAsUser(fileURLToPath(scriptUrl), process.argv.slice(2), options.user)
    return
  }
  // Ctrl-C: exit normally so the exit hooks run (registries killed, snapshot removed)
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130))
  const started = Date.now()
  const result = await fn(options)
  const doc = {bench: name, machine: machineInfo(), options, seconds: Math.round((Date.now() - started) / 100) / 10, ...result}
  console.log('')
  console.log(formatTable(result.rows))
  for (const note of result.notes ?? []) console.log(`note: ${note}`)
  const file = writeResult(name, doc)
  console.log(`\n[bench] ${name}: ${doc.seconds}s; results in ${file}`)
  if (latest) {
    if (options.quick || !options.peers || (result.errors ?? []).length > 0) {
      log('LATEST.md not updated: only a complete run (no --quick, with peers, no errors) replaces it')
    } else {
      log(`committed results: ${writeLatest(doc)} and LATEST.json; then: node bench/readme-table.mjs`)
    }
  }
  if ((result.errors ?? []).length > 0) process.exitCode = 1
}

/** True when `scriptUrl` is the file node was started with (not imported by all.mjs). */
export function isMain(scriptUrl) {
  return process.argv[1] !== undefined && fileURLToPath(scriptUrl) === process.argv[1]
}
