import type {Context} from '../context.js'
import {UsageError} from '../errors.js'
import type {BindMount} from '../spec/flags.js'
import type {VolumeMountRequest} from '../spec/run-flags.js'

/**
 * `--mount type=volume,...`: the volume's directory, as a bind mount for the container (created
 * first when it does not exist). The volume stage fills this in; until then it is refused.
 */
export async function volumeMount(_ctx: Context, request: VolumeMountRequest): Promise<BindMount> {
  throw new UsageError(`invalid --mount target ${request.destination}: volumes are not supported yet (use type=bind or type=tmpfs)`)
}
