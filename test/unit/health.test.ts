import {describe, expect, it} from 'vitest'
import {healthFromFlags, healthRun, healthSuffix, mergeHealth, parseGoDuration} from '../../src/container/health.js'
import {parseWaitCondition} from '../../src/container/wait-condition.js'
import {UsageError} from '../../src/errors.js'

const S = 1_000_000_000

describe('parseGoDuration', () => {
  it('reads Go durations in nanoseconds', () => {
    expect(parseGoDuration('health-interval', '30s')).toBe(30 * S)
    expect(parseGoDuration('health-interval', '1m30s')).toBe(90 * S)
    expect(parseGoDuration('health-interval', '1.5s')).toBe(1.5 * S)
    expect(parseGoDuration('health-interval', '500ms')).toBe(S / 2)
    expect(parseGoDuration('health-interval', '2h')).toBe(7200 * S)
    expect(parseGoDuration('health-start-period', '0')).toBe(0)
  })
  it('refuses what Go refuses, and less than 1ms', () => {
    for (const bad of ['10', '', 'abc', '-1s', '1d', '1s2']) expect(() => parseGoDuration('health-interval', bad)).toThrow(UsageError)
    expect(() => parseGoDuration('health-timeout', '10us')).toThrow(/cannot be less than 1ms/)
  })
})

describe('healthFromFlags and mergeHealth (docker merge rules)', () => {
  it('no flags: the image decides', () => {
    expect(healthFromFlags({})).toBeUndefined()
    const image = {Test: ['CMD', 'true'], Interval: 5 * S}
    expect(mergeHealth(undefined, image)).toEqual(image)
    expect(mergeHealth(undefined, undefined)).toBeUndefined()
  })
  it('--health-cmd is CMD-SHELL; unset fields come from the image', () => {
    const user = healthFromFlags({cmd: 'curl -f localhost', retries: 5})
    expect(user).toEqual({Test: ['CMD-SHELL', 'curl -f localhost'], Retries: 5})
    expect(mergeHealth(user, {Test: ['CMD', 'true'], Interval: 5 * S, Retries: 2})).toEqual({Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 5 * S, Retries: 5})
    expect(mergeHealth(healthFromFlags({interval: '1s'}), {Test: ['CMD', 'true']})).toEqual({Test: ['CMD', 'true'], Interval: S})
  })
  it('--no-healthcheck is NONE and conflicts with --health-*', () => {
    expect(healthFromFlags({none: true})).toEqual({Test: ['NONE']})
    expect(() => healthFromFlags({none: true, cmd: 'true'})).toThrow(/conflicts/)
    expect(() => healthFromFlags({retries: -1})).toThrow(/negative/)
  })
})

describe('healthRun', () => {
  it("applies docker's defaults and builds the argv", () => {
    expect(healthRun({Test: ['CMD-SHELL', 'exit 0']})).toEqual({
      args: ['/bin/sh', '-c', 'exit 0'],
      intervalMs: 30_000,
      timeoutMs: 30_000,
      startPeriodMs: 0,
      startIntervalMs: 5_000,
      retries: 3,
    })
    expect(healthRun({Test: ['CMD', 'wget', '-q', 'x'], Interval: S / 2, Retries: 1, StartPeriod: 10 * S})).toMatchObject({
      args: ['wget', '-q', 'x'],
      intervalMs: 500,
      retries: 1,
      startPeriodMs: 10_000,
    })
  })
  it('none for NONE or no test; refuses an unknown type', () => {
    expect(healthRun({Test: ['NONE']})).toBeUndefined()
    expect(healthRun({Test: []})).toBeUndefined()
    expect(healthRun(undefined)).toBeUndefined()
    expect(() => healthRun({Test: ['SHELL', 'x']})).toThrow(/unknown healthcheck type/)
    expect(() => healthRun({Test: ['CMD']})).toThrow(/no command/)
  })
})

it('healthSuffix is what ps appends', () => {
  expect(healthSuffix(undefined)).toBe('')
  expect(healthSuffix({Status: 'starting', FailingStreak: 0, Log: []})).toBe(' (health: starting)')
  expect(healthSuffix({Status: 'healthy', FailingStreak: 0, Log: []})).toBe(' (healthy)')
  expect(healthSuffix({Status: 'unhealthy', FailingStreak: 3, Log: []})).toBe(' (unhealthy)')
})

it('parseWaitCondition', () => {
  expect(parseWaitCondition(undefined)).toBe('not-running')
  expect(parseWaitCondition('healthy')).toBe('healthy')
  expect(() => parseWaitCondition('sideways')).toThrow(UsageError)
})

it('HEALTHCHECK and HEALTH frames', async () => {
  const {encodeFrame, FrameDecoder, FrameType, healthCheckFrame, healthResultOf} = await import('../../src/shim/frames.js')
  expect([...healthCheckFrame()]).toEqual([7, 0, 0, 0, 0])
  const payload = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from('unhealthy')])
  const [frame] = new FrameDecoder().push(encodeFrame(FrameType.Health, payload))
  expect(healthResultOf(frame!)).toEqual({exitCode: -1, status: 'unhealthy'})
})
