import {describe, expect, it} from 'vitest'
import {
  encodeFrame,
  exitCodeOf,
  exitFrame,
  FrameDecoder,
  FrameType,
  resizeFrame,
  signalFrame,
  startFrame,
  stdinCloseFrame,
  stdinFrame,
} from '../../src/shim/frames.js'
import {shimArgs} from '../../src/shim/spawn.js'

describe('frame encoding', () => {
  it('writes type, big-endian length and payload', () => {
    expect([...stdinFrame(Buffer.from('hi'))]).toEqual([1, 0, 0, 0, 2, 0x68, 0x69])
    expect([...stdinCloseFrame()]).toEqual([2, 0, 0, 0, 0])
    expect([...startFrame()]).toEqual([5, 0, 0, 0, 0])
    expect([...resizeFrame(24, 300)]).toEqual([3, 0, 0, 0, 4, 0, 24, 1, 44])
    expect([...signalFrame(15)]).toEqual([4, 0, 0, 0, 1, 15])
    expect([...exitFrame(-1)]).toEqual([19, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff])
  })

  it('encodes a length above 2^24', () => {
    const f = encodeFrame(FrameType.Stdout, Buffer.alloc(0x01020304))
    expect([...f.subarray(0, 5)]).toEqual([17, 1, 2, 3, 4])
  })

  it('rejects bad types and signals', () => {
    expect(() => encodeFrame(256)).toThrow(RangeError)
    expect(() => signalFrame(0)).toThrow(RangeError)
  })
})

describe('FrameDecoder', () => {
  const stream = Buffer.concat([
    encodeFrame(FrameType.Stdout, Buffer.from('hello\n')),
    encodeFrame(FrameType.Started),
    encodeFrame(FrameType.Stderr, Buffer.from('oops')),
    exitFrame(143),
  ])

  it('decodes frames from one chunk', () => {
    const frames = new FrameDecoder().push(stream)
    expect(frames.map((f) => f.type)).toEqual([17, 20, 18, 19])
    expect(frames[0]!.payload.toString()).toBe('hello\n')
    expect(frames[1]!.payload.length).toBe(0)
    expect(exitCodeOf(frames[3]!)).toBe(143)
  })

  it('decodes the same frames whatever the chunking (byte by byte, every split)', () => {
    const bytewise = new FrameDecoder()
    const out = []
    for (const b of stream) out.push(...bytewise.push(Buffer.from([b])))
    expect(out.map((f) => [f.type, f.payload.toString('hex')])).toEqual(
      new FrameDecoder().push(stream).map((f) => [f.type, f.payload.toString('hex')]),
    )
    for (let i = 0; i <= stream.length; i++) {
      const d = new FrameDecoder()
      const frames = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i))]
      expect(frames.length).toBe(4)
      expect(d.pending).toBe(0)
    }
  })

  it('keeps an incomplete frame pending', () => {
    const d = new FrameDecoder()
    expect(d.push(Buffer.from([17, 0, 0, 0, 3, 0x61]))).toEqual([])
    expect(d.pending).toBe(6)
    const [f] = d.push(Buffer.from('bc'))
    expect(f!.payload.toString()).toBe('abc')
  })

  it('refuses absurd lengths', () => {
    expect(() => new FrameDecoder().push(Buffer.from([17, 0xff, 0xff, 0xff, 0xff]))).toThrow(RangeError)
  })

  it('does not alias caller buffers that are reused', () => {
    const d = new FrameDecoder()
    const chunk = Buffer.from(encodeFrame(FrameType.Stdout, Buffer.from('xy')))
    const [f] = d.push(chunk)
    expect(f!.payload.toString()).toBe('xy')
  })
})

describe('shim arguments', () => {
  it('builds the shim argv', () => {
    const args = shimArgs({
      userns: {file: 'u', args: []},
      shimPath: '/s',
      id: 'c1',
      bundle: '/b',
      runtime: '/usr/bin/runc',
      runtimeArgs: ['--root', '/r'],
      mountProgram: '/usr/bin/fuse-overlayfs',
      mountArgs: ['-o', 'x', '/m'],
      rootfs: '/m',
      stateDir: '/st',
      logFile: '/l',
      exitFile: '/e',
      tty: true,
      stdin: false,
      exitCommand: ['/bin/ctr-ts', 'cleanup', 'c1'],
      diagnosticsFile: '/d',
    })
    expect(args.join(' ')).toBe(
      '--id c1 --bundle /b --runtime /usr/bin/runc --runtime-arg --root --runtime-arg /r ' +
        '--mount-program /usr/bin/fuse-overlayfs --mount-arg -o --mount-arg x --mount-arg /m ' +
        '--rootfs /m --state-dir /st --log /l --exit-file /e --tty ' +
        '--exit-command /bin/ctr-ts --exit-arg cleanup --exit-arg c1 --sync-fd 3',
    )
  })
})
