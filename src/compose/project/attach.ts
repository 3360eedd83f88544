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
}

/** Follows the containers' logs; the exit code: 130 when stopped by a signal, else 0. */
export async function attachToProject(ctx: Context, project: ComposeProject, list: readonly UpContainer[], o: AttachOptions): Promise<number> {
  const out = o.out ?? ((text: string) => void process.stdout.write(text))
  const sources: LogSource[] = list.map((c) => ({id: c.id, label: shortName(project.name, c.name), ...(c.fresh ? {} : {sinceMs: o.sinceMs})}))
  let signals = 0
  let stopping: Promise<void> | undefined
  const order = serviceOrder(project)
  const stopAll = async (kill: boolean) => {
    // dependents first, as `down` does
    const sorted = [...list].sort((a, b) => order.indexOf(b.service) - order.indexOf(a.service))
    for (const c of sorted) {
      if (kill) {
        await containers.kill(ctx, c.id, 'SIGKILL').catch(() => {})
        continue
      }
      o.progress.event('Container', c.name, 'Stopping')
      await containers.stop(ctx, c.id, o.timeoutSec).catch(() => {})
      o.progress.event('Container', c.name, 'Stopped')
    }
  }
  const onSignal = () => {
    signals++
    if (signals === 1) {
      process.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n')
      stopping = stopAll(false)
    } else void stopAll(true)
  }
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
        if (signals > 0) return
        const code = await containers.wait(ctx, s.id).catch(() => undefined)
        if (code !== undefined) out(`${s.label} exited with code ${code}\n`)
      },
    })
    await stopping
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  return signals > 0 ? 130 : 0
}
