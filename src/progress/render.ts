import {formatBytes, shortDigest, type PullEvent, type PullEventSink} from './events.js'

interface LayerLine {
  digest: string
  phase: string
  size: number
  current: number
  started?: number
  finished?: number
}

/**
 * A renderer writing to a stream (stderr): on a terminal, one line per layer with bytes and
 * speed, redrawn in place with ANSI codes; elsewhere, one plain line per event.
 */
export function createProgress(stream: NodeJS.WriteStream = process.stderr, opts: {tty?: boolean} = {}): {sink: PullEventSink; finish(): void} {
  const tty = opts.tty ?? Boolean(stream.isTTY)
  return tty ? ttyRenderer(stream) : plainRenderer(stream)
}

function plainRenderer(stream: NodeJS.WritableStream): {sink: PullEventSink; finish(): void} {
  const out = (line: string) => stream.write(`${line}\n`)
  return {
    sink(e: PullEvent) {
      switch (e.type) {
        case 'resolving':
          out(`Pulling ${e.ref}`)
          break
        case 'resolved':
          out(`Resolved ${e.ref} to ${e.digest}${e.platform ? ` (${e.platform})` : ''}`)
          break
        case 'layer':
          if (e.phase === 'exists') out(`${shortDigest(e.digest)}: already exists`)
          else if (e.phase === 'downloading') out(`${shortDigest(e.digest)}: downloading (${formatBytes(e.size)})`)
          else if (e.phase === 'done') out(`${shortDigest(e.digest)}: done`)
          else if (e.phase === 'unpacked') out(`${shortDigest(e.digest)}: unpacked`)
          break
        case 'unpacking':
          out('Unpacking layers')
          break
        case 'notice':
          out(e.message)
          break
        case 'pulled':
          out(`Pulled ${e.ref} ${e.digest}`)
          break
        default:
          break
      }
    },
    finish() {},
  }
}

function ttyRenderer(stream: NodeJS.WriteStream): {sink: PullEventSink; finish(): void} {
  const layers: LayerLine[] = []
  const header: string[] = []
  let drawn = 0
  let timer: NodeJS.Timeout | undefined
  const line = (l: LayerLine): string => {
    const id = shortDigest(l.digest)
    switch (l.phase) {
      case 'exists':
        return `${id}: already exists`
      case 'waiting':
        return `${id}: waiting`
      case 'downloading': {
        const secs = l.started ? (Date.now() - l.started) / 1000 : 0
        const speed = secs > 0.2 ? `  ${formatBytes(Math.round(l.current / secs))}/s` : ''
        const pct = l.size > 0 ? ` ${Math.floor((l.current * 100) / l.size)}%` : ''
        return `${id}: downloading ${formatBytes(l.current)} / ${formatBytes(l.size)}${pct}${speed}`
      }
      case 'verifying':
        return `${id}: verifying`
      case 'done':
        return `${id}: done ${formatBytes(l.size)}`
      case 'unpacking':
        return `${id}: unpacking`
      case 'unpacked':
        return `${id}: unpacked`
      default:
        return `${id}: ${l.phase}`
    }
  }
  const draw = () => {
    timer = undefined
    const cols = stream.columns || 100
    let buf = drawn > 0 ? `\x1b[${drawn}A` : ''
    const lines = [...header, ...layers.map(line)]
    for (const l of lines) buf += `\x1b[2K${l.slice(0, cols - 1)}\n`
    drawn = lines.length
    stream.write(buf)
  }
  const schedule = () => {
    timer ??= setTimeout(draw, 100)
  }
  const find = (digest: string): LayerLine => {
    let l = layers.find((x) => x.digest === digest)
    if (!l) {
      l = {digest, phase: 'waiting', size: 0, current: 0}
      layers.push(l)
    }
    return l
  }
  return {
    sink(e: PullEvent) {
      switch (e.type) {
        case 'resolving':
          header.push(`Pulling ${e.ref}`)
          break
        case 'layer': {
          const l = find(e.digest)
          l.phase = e.phase
          if (e.size > 0) l.size = e.size
          if (e.phase === 'downloading') l.started = Date.now()
          if (e.phase === 'done' || e.phase === 'unpacking' || e.phase === 'unpacked') l.current = e.size
          break
        }
        case 'progress': {
          const l = find(e.digest)
          l.current = e.current
          l.size = e.total
          break
        }
        case 'unpacking':
          header.push('Unpacking layers')
          break
        case 'notice':
          header.push(e.message)
          break
        case 'pulled':
          if (timer) clearTimeout(timer)
          draw()
          stream.write(`Pulled ${e.ref} ${e.digest}\n`)
          drawn = 0
          return
        default:
          break
      }
      schedule()
    },
    finish() {
      if (timer) {
        clearTimeout(timer)
        draw()
      }
    },
  }
}
