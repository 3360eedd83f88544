import {describe, expect, it} from 'vitest'
import {isRestartable, parseRestartPolicy, shimRestartArg} from '../../src/container/restart-policy.js'
import {parseRestartState} from '../../src/runtime/restart-file.js'
import {UsageError} from '../../src/errors.js'
import {dockerStatus, taskState} from '../../src/runtime/status.js'

describe('parseRestartPolicy', () => {
  it("reads docker's forms", () => {
    expect(parseRestartPolicy(undefined)).toEqual({Name: 'no', MaximumRetryCount: 0})
    expect(parseRestartPolicy('no')).toEqual({Name: 'no', MaximumRetryCount: 0})
    expect(parseRestartPolicy('always')).toEqual({Name: 'always', MaximumRetryCount: 0})
    expect(parseRestartPolicy('unless-stopped')).toEqual({Name: 'unless-stopped', MaximumRetryCount: 0})
    expect(parseRestartPolicy('on-failure')).toEqual({Name: 'on-failure', MaximumRetryCount: 0})
    expect(parseRestartPolicy('on-failure:3')).toEqual({Name: 'on-failure', MaximumRetryCount: 3})
  })

  it('refuses what docker refuses, as usage errors', () => {
    for (const bad of ['sometimes', 'always:2', 'unless-stopped:1', 'on-failure:-1', 'on-failure:x', 'on-failure:1:2', 'on-failure:']) {
      expect(() => parseRestartPolicy(bad), bad).toThrow(UsageError)
    }
  })
})

describe('shimRestartArg', () => {
  it('gives the shim on-failure[:MAX] or always, nothing for no', () => {
    expect(shimRestartArg(undefined)).toBeUndefined()
    expect(shimRestartArg(parseRestartPolicy('no'))).toBeUndefined()
    expect(shimRestartArg(parseRestartPolicy('on-failure'))).toBe('on-failure')
    expect(shimRestartArg(parseRestartPolicy('on-failure:5'))).toBe('on-failure:5')
    expect(shimRestartArg(parseRestartPolicy('always'))).toBe('always')
    expect(shimRestartArg(parseRestartPolicy('unless-stopped'))).toBe('always')
  })
})

describe('restart state', () => {
  it("parses the shim's restart file and ignores junk", () => {
    expect(parseRestartState({restartCount: 2, restarting: true, exitCode: 1, finishedAt: 't', stoppedByUser: false})).toEqual({
      restartCount: 2,
      restarting: true,
      exitCode: 1,
      finishedAt: 't',
      stoppedByUser: false,
      pid: undefined,
      startedAt: undefined,
    })
    expect(parseRestartState({restartCount: 0, restarting: false, pid: 42, stoppedByUser: true})?.pid).toBe(42)
    expect(parseRestartState(null)).toBeUndefined()
    expect(parseRestartState({restarting: true})).toBeUndefined()
  })

  it('start --all-restartable: always, and unless-stopped not stopped by the user', () => {
    const state = (stoppedByUser: boolean) => ({restartCount: 0, restarting: false, stoppedByUser})
    expect(isRestartable(parseRestartPolicy('always'), state(true))).toBe(true)
    expect(isRestartable(parseRestartPolicy('unless-stopped'), undefined)).toBe(true)
    expect(isRestartable(parseRestartPolicy('unless-stopped'), state(false))).toBe(true)
    expect(isRestartable(parseRestartPolicy('unless-stopped'), state(true))).toBe(false)
    expect(isRestartable(parseRestartPolicy('on-failure'), state(false))).toBe(false)
    expect(isRestartable(undefined, undefined)).toBe(false)
  })

  it('a live shim waiting its back-off is restarting, as docker says', () => {
    expect(taskState({startedAt: 't0', shimAlive: true, restarting: true})).toEqual({status: 'restarting'})
    expect(taskState({startedAt: 't0', shimAlive: false, restarting: true}).status).toBe('stopped')
    expect(dockerStatus('restarting')).toBe('restarting')
  })
})
