/**
 * Attached `compose up`: every container's output multiplexed with `service-N | ` prefixes until
 * they have all exited; Ctrl-C (SIGINT) or SIGTERM stops the stack (a second Ctrl-C kills it),
 * as docker compose does.
 */
import type {Context} from '../../context.js'
import * as containers from '../../engine/containers.js'
import type {ComposeProject} from '../model/types.js'
import {type LogSource, multiplexLogs, shortName} from './logs.js'
import {serviceOrder} from './order.js'
import type {Progress} from './progress.js'
import type {UpContainer} from './up.js'

export interface AttachOptions {
  /** When this `up` began: containers it did not (re)create show output from then on. */
  sinceMs: number
  colour: boolean
  noPrefix?: boolean
  timeoutSec?: number
  progress: Progress
  out?: (text: string) => void
  /** --abort-on-container-exit: the first container that exits stops the others. */
  abortOnExit?: boolean
  /** --exit-code-from SERVICE: the exit code of `up` is that service's container's (implies abortOnExit). */
  exitCodeFrom?: string
}

/**
 * Follows the containers' logs; the exit code: with --exit-code-from that service's, with
 * --abort-on-container-exit the first exited container's, 130 when stopped by a signal, else 0.
 */
export async function attachToProject(ctx: Context, project: ComposeProject, list: readonly UpContainer[], o: AttachOptions): Promise<number> {
  const out = o.out ?? ((text: string) => void process.stdout.write(text))
  const sources: LogSource[] = list.map((c) => ({id: c.id, label: shortName(project.name, c.name), ...(c.fresh ? {} : {sinceMs: o.sinceMs})}))
  let signals = 0
  let aborting = false
  let stopping: Promise<void> | undefined
  const order = serviceOrder(project)
  const stopAll = async (kill: boolean) => {
    // dependents first, as `down` does; the containers of one service at the same time
    const services = [...new Set(list.map((c) => c.service))].sort((a, b) => order.indexOf(b) - order.indexOf(a))
    for (const service of services) {
      await Promise.all(
        list
          .filter((c) => c.service === service)
          .map(async (c) => {
            if (kill) return containers.kill(ctx, c.id, 'SIGKILL').catch(() => {})
            o.progress.event('Container', c.name, 'Stopping')
            await containers.stop(ctx, c.id, o.timeoutSec).catch(() => {})
            o.progress.event('Container', c.name, 'Stopped')
          }),
      )
    }
  }
  const abort = o.abortOnExit === true || o.exitCodeFrom !== undefined
  let firstExit: number | undefined
  let fromCode: number | undefined
  const onSignal = () => {
    signals++
    if (signals === 1) {
      process.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n')
      stopping = stopAll(false)
    } else void stopAll(true)
  }
  if (sources.length > 0) out(`Attaching to ${sources.map((s) => s.label).join(', ')}\n`)
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    await multiplexLogs(ctx, sources, {
      follow: true,
      timestamps: false,
      colour: o.colour,
      noPrefix: o.noPrefix,
      out,
      onExit: async (s) => {
        if (signals > 0 || aborting) return
        const code = await containers.wait(ctx, s.id).catch(() => undefined)
        if (code === undefined) return
        out(`${s.label} exited with code ${code}\n`)
        const c = list.find((x) => x.id === s.id)!
        if (o.exitCodeFrom !== undefined && c.service === o.exitCodeFrom && fromCode === undefined) fromCode = code
        if (abort && !aborting) {
          aborting = true
          firstExit = code
          process.stderr.write('Aborting on container exit...\n')
          stopping = stopAll(false)
        }
      },
    })
    await stopping
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  if (o.exitCodeFrom !== undefined) {
    fromCode ??= await exitCodeOf(ctx, list.find((c) => c.service === o.exitCodeFrom))
    return fromCode
  }
  if (signals > 0) return 130
  return firstExit ?? 0
}

async function exitCodeOf(ctx: Context, c: UpContainer | undefined): Promise<number> {
  if (!c) return 0
  return containers.wait(ctx, c.id).catch(() => 1)
}
