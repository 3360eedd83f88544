// Running commands and timing them (wall clock, from spawn to exit).
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {delimiter, join} from 'node:path'

/**
 * Runs `cmd args`, never throws on a non-zero exit: resolves {code, stdout, stderr, ms}.
 * stdin is closed; a timeout kills the process (code 124).
 */
export function timed(cmd, args, {env, timeoutMs = 120_000, cwd} = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(cmd, args, {env: env ?? process.env, cwd, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-8000)))
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const ms = performance.now() - started
      if (timedOut) stderr += `\n[bench] ${cmd} ${args.join(' ')}: timed out after ${timeoutMs}ms`
      resolve({code: timedOut ? 124 : (code ?? (signal ? 128 : 1)), stdout, stderr, ms})
    })
  })
}

/** Like timed() but throws when the command fails. */
export async function mustRun(cmd, args, opts) {
  const r = await timed(cmd, args, opts)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`)
  return r
}

export function which(name) {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!dir) continue
    const p = join(dir, name)
    if (existsSync(p)) return p
  }
  return undefined
}
