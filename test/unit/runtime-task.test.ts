import {describe, expect, it} from 'vitest'
import {CommandNotFoundError, CommandNotInvokableError, RuntimeError} from '../../src/errors.js'
import {classifyRuntimeError, lastRuntimeError, runtimeErrorMessage, shimErrorMessage} from '../../src/runtime/classify.js'
import {exitCodeOf} from '../../src/runtime/process.js'
import {dockerStatus, statusFromRuntime, taskState} from '../../src/runtime/status.js'

describe('Task state mapping', () => {
  const exit = {exitCode: 3, signal: null, finishedAt: '2026-01-02T15:04:05Z'}

  it('maps the runtime status strings of runc and crun', () => {
    expect(statusFromRuntime('creating')).toBe('created')
    expect(statusFromRuntime('created')).toBe('created')
    expect(statusFromRuntime('running')).toBe('running')
    expect(statusFromRuntime('paused')).toBe('paused')
    expect(statusFromRuntime('pausing')).toBe('paused')
    expect(statusFromRuntime('stopped')).toBe('stopped')
    expect(statusFromRuntime(undefined)).toBe('unknown')
    expect(statusFromRuntime('weird')).toBe('unknown')
  })

  it('maps the shim records: exit file, started, shim alive', () => {
    expect(taskState({shimAlive: false})).toEqual({status: 'created'})
    expect(taskState({startedAt: 't0', shimAlive: true})).toEqual({status: 'running'})
    // the exit file wins, even while the shim is still finishing
    expect(taskState({startedAt: 't0', shimAlive: true, exit})).toEqual({status: 'stopped', exit})
    expect(taskState({startedAt: 't0', shimAlive: false, exit})).toEqual({status: 'stopped', exit})
    // a killed shim wrote no exit file: stopped, exit unknown (255, like docker's dead containers)
    expect(taskState({startedAt: 't0', shimAlive: false})).toEqual({status: 'stopped', exit: {exitCode: 255, signal: null, finishedAt: 't0'}})
  })

  it("gives docker's words", () => {
    expect(dockerStatus('created')).toBe('created')
    expect(dockerStatus('running')).toBe('running')
    expect(dockerStatus('stopped')).toBe('exited')
    expect(dockerStatus('paused')).toBe('paused')
    expect(dockerStatus('unknown')).toBe('dead')
  })

  it('gives 128+N for a process killed by signal N, not always 137', () => {
    expect(exitCodeOf(0, null)).toBe(0)
    expect(exitCodeOf(42, null)).toBe(42)
    expect(exitCodeOf(null, 'SIGTERM')).toBe(143)
    expect(exitCodeOf(null, 'SIGKILL')).toBe(137)
    expect(exitCodeOf(null, 'SIGINT')).toBe(130)
    expect(exitCodeOf(null, 'SIGHUP')).toBe(129)
    expect(exitCodeOf(null, 15)).toBe(143)
    expect(exitCodeOf(null, null)).toBe(255)
  })
})

describe('runtime error classification', () => {
  const runcLine = (msg: string) => `time="2026-01-02T15:04:05Z" level=error msg="${msg.replace(/"/g, '\\"')}"`
  const nf = 'runc create failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH'
  const nf2 = 'runc create failed: unable to start container process: exec: "/nosuch": stat /nosuch: no such file or directory'
  const perm = 'runc create failed: unable to start container process: exec: "/etc": permission denied'

  it("unwraps runc's logrus lines, its JSON log and plain crun lines", () => {
    expect(runtimeErrorMessage(runcLine(nf))).toBe(nf)
    expect(runtimeErrorMessage(JSON.stringify({level: 'error', msg: nf, time: 'x'}))).toBe(nf)
    expect(runtimeErrorMessage(JSON.stringify({level: 'fatal', msg: 'boom'}))).toBe('boom')
    expect(runtimeErrorMessage(JSON.stringify({level: 'warning', msg: 'meh'}))).toBeUndefined()
    expect(runtimeErrorMessage('time="x" level=warning msg="cgroup v1"')).toBeUndefined()
    expect(runtimeErrorMessage('crun: executable file `nosuch` not found in $PATH: No such file or directory')).toMatch(/^crun: /)
    expect(runtimeErrorMessage('hello from the process')).toBeUndefined()
    expect(runtimeErrorMessage('')).toBeUndefined()
    expect(lastRuntimeError(['{"level":"info","msg":"x"}', JSON.stringify({level: 'error', msg: 'first'}), JSON.stringify({level: 'error', msg: 'last'}), ''].join('\n'))).toBe('last')
  })

  it("reads the shim's report: a runtime line verbatim, or its own words around one", () => {
    expect(shimErrorMessage(runcLine(nf))).toBe(nf)
    expect(shimErrorMessage('the container process exited before start')).toBe('the container process exited before start')
    expect(shimErrorMessage(`mounting the rootfs with fuse-overlayfs failed (exit 1): ${runcLine('fuse: device not found')}`)).toBe(
      'mounting the rootfs with fuse-overlayfs failed (exit 1): fuse: device not found',
    )
  })

  it('maps messages to the exit-code classes, like docker', () => {
    expect(classifyRuntimeError(nf)).toBeInstanceOf(CommandNotFoundError)
    expect(classifyRuntimeError(nf2)).toBeInstanceOf(CommandNotFoundError)
    expect(classifyRuntimeError(perm)).toBeInstanceOf(CommandNotInvokableError)
    expect(classifyRuntimeError(nf).exitCode).toBe(127)
    expect(classifyRuntimeError(perm).exitCode).toBe(126)
    expect(classifyRuntimeError('exec failed: unable to start container process: exec: "/bin/x": exec format error')).toBeInstanceOf(CommandNotInvokableError)
    expect(classifyRuntimeError('crun: executable file `nosuch` not found in $PATH: No such file or directory')).toBeInstanceOf(CommandNotFoundError)
    const other = classifyRuntimeError('runc create failed: open /x/config.json: no such file or directory')
    expect(other).toBeInstanceOf(RuntimeError)
    expect(other.exitCode).toBe(125)
    expect(classifyRuntimeError('mounting the rootfs with fuse-overlayfs failed: permission denied')).toBeInstanceOf(RuntimeError)
  })
})
