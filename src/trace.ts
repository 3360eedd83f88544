import {readFileSync, unlinkSync, writeFileSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/**
 * A phase timeline of one ctr-ts process, for `CTR_TS_TRACE=1`: every module can time a named
 * phase (`trace.phase('config', () => loadConfig())`) or close a step of the main sequence
 * (`trace.mark('start-up')`: the time since the previous mark, or since the process started);
 * at exit the table goes to stderr, nothing to stdout. When tracing is off each call costs one
 * branch.
 *
 * Times are milliseconds since the process started (performance.now(): Node's time origin is
 * the process's start). The one instance lives on globalThis, so that every copy of this module
 * in the process (the bundled CLI, the compiled dist/ tree) records into the same timeline.
 */
export interface TracePhase {
  name: string
  /** ms since the process started */
  start: number
  /** ms */
  ms: number
}

export interface TraceOptions {
  enabled: boolean
  /** ms since the process started (default: performance.now()) */
  now?: () => number
}

export class Trace {
  readonly enabled: boolean
  private readonly now: () => number
  private readonly recorded: TracePhase[] = []
  private lastMark = 0

  constructor(opts: TraceOptions) {
    this.enabled = opts.enabled
    this.now = opts.now ?? (() => performance.now())
  }

  /** Runs `fn` (sync or async) and records how long it took (until its promise settles), also when it throws. */
  phase<T>(name: string, fn: () => T): T {
    if (!this.enabled) return fn()
    const start = this.now()
    let result: T
    try {
      result = fn()
    } catch (err) {
      this.record(name, start, this.now())
      throw err
    }
    if (result instanceof Promise) {
      const done = () => this.record(name, start, this.now())
      result.then(done, done)
    } else this.record(name, start, this.now())
    return result
  }

  /** Records the step of the main sequence that ends now (or at `end`): from the previous mark, or the process's start. */
  mark(name: string, end?: number): void {
    if (!this.enabled) return
    const at = end ?? this.now()
    this.record(name, this.lastMark, at)
    this.lastMark = at
  }

  /** Records a phase with explicit times (ms since the process started). */
  record(name: string, start: number, end: number): void {
    if (!this.enabled) return
    this.recorded.push({name, start, ms: Math.max(0, end - start)})
  }

  /**
   * Adds the phases other programs (the C helpers: shim/common.c trace_phase) appended to `text`:
   * one "NAME<TAB>START<TAB>END" line each, in microseconds since the epoch; `originMs` is this
   * process's start in ms since the epoch (performance.timeOrigin).
   */
  addChildPhases(text: string, originMs: number): void {
    if (!this.enabled) return
    for (const line of text.split('\n')) {
      const [name, start, end] = line.split('\t')
      if (!name || start === undefined || end === undefined) continue
      const s = Number(start) / 1000 - originMs
      const e = Number(end) / 1000 - originMs
      if (Number.isFinite(s) && Number.isFinite(e)) this.record(name, s, e)
    }
  }

  /** The recorded phases, by start time (then in the order they were recorded). */
  phases(): TracePhase[] {
    return this.recorded.map((p, i) => ({p, i})).sort((a, b) => a.p.start - b.p.start || a.i - b.i).map(({p}) => ({...p}))
  }

  /** The table printed at exit: one line per phase (start, duration), then the total so far. */
  report(total = this.now()): string {
    const rows: [string, string, string][] = this.phases().map((p) => [p.name, p.start.toFixed(1), p.ms.toFixed(1)])
    rows.push(['total', '', total.toFixed(1)])
    const head: [string, string, string] = ['phase', 'start ms', 'ms']
    const w = [0, 1, 2].map((i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)))
    const line = (r: [string, string, string]) => `${r[0].padEnd(w[0]!)}  ${r[1].padStart(w[1]!)}  ${r[2].padStart(w[2]!)}`
    return ['ctr-ts trace:', line(head), ...rows.map(line)].join('\n') + '\n'
  }
}

/** CTR_TS_TRACE=1 (any value but empty, 0, false, no, off) turns tracing on. */
export function traceEnabled(value: string | undefined): boolean {
  return value !== undefined && !['', '0', 'false', 'no', 'off'].includes(value.trim().toLowerCase())
}

const KEY = Symbol.for('ctr-ts.trace')

function processTrace(): Trace {
  const g = globalThis as typeof globalThis & {[KEY]?: Trace}
  if (g[KEY]) return g[KEY]
  const t = new Trace({enabled: traceEnabled(process.env.CTR_TS_TRACE)})
  g[KEY] = t
  if (t.enabled) {
    // The helpers this process starts (ctr-ts-userns, the shim) append their phases here.
    // (node:crypto only when tracing: loading it costs every command a few ms of start-up.)
    const suffix = process.getBuiltinModule('node:crypto').randomBytes(4).toString('hex')
    let childFile: string | undefined = join(tmpdir(), `ctr-ts-trace-${process.pid}-${suffix}.tsv`)
    try {
      writeFileSync(childFile, '', {flag: 'wx', mode: 0o600})
      process.env.CTR_TS_TRACE_FILE = childFile
    } catch {
      childFile = undefined
    }
    process.once('exit', () => {
      if (childFile) {
        try {
          t.addChildPhases(readFileSync(childFile, 'utf8'), performance.timeOrigin)
          unlinkSync(childFile)
        } catch {
          // gone: nothing to add
        }
      }
      t.mark('exit')
      try {
        writeSync(2, t.report())
      } catch {
        // stderr closed: nothing to report to
      }
    })
  }
  return t
}

/** This process's timeline. */
export const trace: Trace = processTrace()
