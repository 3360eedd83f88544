import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {applyChanges} from '../../src/image/config-changes.js'
import {offsetFromRange} from '../../src/registry/upload.js'

describe('applyChanges (commit -c / import -c)', () => {
  it('exec and shell forms of CMD and ENTRYPOINT', () => {
    expect(applyChanges({}, ['CMD ["cat", "/x"]']).Cmd).toEqual(['cat', '/x'])
    expect(applyChanges({}, ['CMD echo hi']).Cmd).toEqual(['/bin/sh', '-c', 'echo hi'])
    expect(applyChanges({}, ['entrypoint ["/init"]']).Entrypoint).toEqual(['/init'])
  })

  it('ENV replaces or adds; LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL', () => {
    const base = {Env: ['PATH=/bin', 'A=1']}
    const out = applyChanges(base, ['ENV A=2 B="two words"', 'ENV C 3', 'LABEL k=v', 'EXPOSE 80 53/udp', 'VOLUME /data', 'USER 1000:1000', 'WORKDIR /app', 'STOPSIGNAL SIGINT'])
    expect(out.Env).toEqual(['PATH=/bin', 'A=2', 'B=two words', 'C=3'])
    expect(out.Labels).toEqual({k: 'v'})
    expect(out.ExposedPorts).toEqual({'80/tcp': {}, '53/udp': {}})
    expect(out.Volumes).toEqual({'/data': {}})
    expect([out.User, out.WorkingDir, out.StopSignal]).toEqual(['1000:1000', '/app', 'SIGINT'])
    expect(base.Env).toEqual(['PATH=/bin', 'A=1'])
  })

  it('refuses other instructions and malformed arguments', () => {
    expect(() => applyChanges({}, ['RUN rm -rf /'])).toThrow(UsageError)
    expect(() => applyChanges({}, ['EXPOSE http'])).toThrow(/invalid port/)
    expect(() => applyChanges({}, ['ENV'])).toThrow(UsageError)
    expect(() => applyChanges({}, ['CMD'])).toThrow(/needs an argument/)
  })
})

describe('offsetFromRange (resuming an upload)', () => {
  it('is the byte after the last one the registry holds', () => {
    expect(offsetFromRange('0-1023')).toBe(1024)
    expect(offsetFromRange('bytes=0-0')).toBe(1)
    expect(offsetFromRange(undefined)).toBe(0)
    expect(offsetFromRange('garbage')).toBe(0)
  })
})
