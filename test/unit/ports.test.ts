import {describe, expect, it} from 'vitest'
import type {PortMapping} from '../../src/network/ports.js'
import {RuntimeError, UsageError} from '../../src/errors.js'
import {parseProxyReport, portProxyArgv, publishArg} from '../../src/network/proxy.js'
import {parsePublish} from '../../src/network/ports.js'
import {slirpArgv} from '../../src/network/slirp.js'

const tcp = (hostIp: string, hostPort: number, containerPort: number): PortMapping => ({hostIp, hostPort, containerPort, protocol: 'tcp'})
const udp = (hostIp: string, hostPort: number, containerPort: number): PortMapping => ({hostIp, hostPort, containerPort, protocol: 'udp'})

describe('parsePublish', () => {
  it('parses a container port alone: any address, a free host port', () => {
    expect(parsePublish('80')).toEqual([tcp('0.0.0.0', 0, 80)])
  })
  it('parses hostPort:containerPort', () => {
    expect(parsePublish('8080:80')).toEqual([tcp('0.0.0.0', 8080, 80)])
  })
  it('parses hostIp:hostPort:containerPort and hostIp::containerPort', () => {
    expect(parsePublish('127.0.0.1:8080:80')).toEqual([tcp('127.0.0.1', 8080, 80)])
    expect(parsePublish('127.0.0.1::80')).toEqual([tcp('127.0.0.1', 0, 80)])
  })
  it('parses the protocol, case-insensitively', () => {
    expect(parsePublish('5353:53/udp')).toEqual([udp('0.0.0.0', 5353, 53)])
    expect(parsePublish('8080:80/TCP')).toEqual([tcp('0.0.0.0', 8080, 80)])
  })
  it('parses IPv6 host addresses in brackets', () => {
    expect(parsePublish('[::1]:8080:80')).toEqual([tcp('::1', 8080, 80)])
    expect(parsePublish('[::]::80/udp')).toEqual([udp('::', 0, 80)])
  })
  it('expands ranges of the same size pairwise', () => {
    expect(parsePublish('8080-8082:80-82')).toEqual([tcp('0.0.0.0', 8080, 80), tcp('0.0.0.0', 8081, 81), tcp('0.0.0.0', 8082, 82)])
    expect(parsePublish('80-81/udp')).toEqual([udp('0.0.0.0', 0, 80), udp('0.0.0.0', 0, 81)])
  })
  it('rejects bad ports with a usage error', () => {
    for (const bad of ['0', '65536', 'http', '8080:', '8080:0', '-1', '80-', '82-80', '8080:80:90:100', '']) {
      expect(() => parsePublish(bad), bad).toThrow(UsageError)
    }
  })
  it('rejects ranges of different sizes', () => {
    expect(() => parsePublish('8080-8081:80-82')).toThrow(/differ in size/)
  })
  it('rejects unknown protocols', () => {
    expect(() => parsePublish('80/sctp')).toThrow(/invalid protocol/)
    expect(() => parsePublish('80/')).toThrow(/invalid protocol/)
  })
  it('rejects host addresses that are not IP addresses', () => {
    expect(() => parsePublish('localhost:8080:80')).toThrow(/invalid host IP/)
    expect(() => parsePublish('1.2.3:8080:80')).toThrow(/invalid host IP/)
  })
  it('rejects IPv4 addresses with octets above 255', () => {
    expect(() => parsePublish('999.0.0.1:8080:80')).toThrow(/invalid host IP/)
  })
  it('rejects more than one protocol suffix', () => {
    expect(() => parsePublish('80/tcp/udp')).toThrow(UsageError)
  })
})

describe('port proxy arguments', () => {
  it('formats publications, IPv6 host addresses in brackets', () => {
    expect(publishArg(tcp('0.0.0.0', 8080, 80))).toBe('tcp:0.0.0.0:8080:80')
    expect(publishArg(udp('127.0.0.1', 0, 53))).toBe('udp:127.0.0.1:0:53')
    expect(publishArg(tcp('::1', 8080, 80))).toBe('tcp:[::1]:8080:80')
  })
  it('enters the container user namespace and rounds the UDP timeout up to whole seconds', () => {
    const argv = portProxyArgv({proxyPath: '/p', shimPid: 10, containerPid: 20, ports: [tcp('0.0.0.0', 0, 80), udp('0.0.0.0', 53, 53)], udpIdleTimeout: 1.5})
    expect(argv).toEqual([
      '--target', '10', '--user', '--preserve-credentials', '--', '/p', '--pid', '20',
      '--publish', 'tcp:0.0.0.0:0:80', '--publish', 'udp:0.0.0.0:53:53',
      '--container-ip', '10.0.2.100', '--loopback-as', '10.0.2.2', '--udp-idle-timeout', '2',
    ])
  })
})

describe('parseProxyReport', () => {
  const requested = [tcp('0.0.0.0', 0, 80), udp('127.0.0.1', 5353, 53)]
  it('waits for complete lines and the final ready', () => {
    expect(parseProxyReport('', requested)).toBeUndefined()
    expect(parseProxyReport('port tcp 0.0.0.0 40000 80\n', requested)).toBeUndefined()
    expect(parseProxyReport('port tcp 0.0.0.0 40000 80\nport udp 127.0.0.1 5353 53\nrea', requested)).toBeUndefined()
  })
  it('returns the actual host ports in the requested order', () => {
    const r = parseProxyReport('port tcp 0.0.0.0 40000 80\nport udp 127.0.0.1 5353 53\nready\n', requested)
    expect(r).toEqual({ok: true, ports: [tcp('0.0.0.0', 40000, 80), udp('127.0.0.1', 5353, 53)]})
    expect(parseProxyReport('ready\n', [])).toEqual({ok: true, ports: []})
  })
  it('turns a taken port into a usage error', () => {
    const r = parseProxyReport('error cannot publish 0.0.0.0:8080/tcp: Address already in use\n', requested)
    expect(r?.ok).toBe(false)
    const error = r && !r.ok ? r.error : undefined
    expect(error).toBeInstanceOf(UsageError)
    expect(error?.message).toBe('cannot publish 0.0.0.0:8080/tcp: address already in use')
  })
  it('turns other failures into runtime errors', () => {
    const r = parseProxyReport('error open /proc/5/ns/net: No such file or directory\n', requested)
    const error = r && !r.ok ? r.error : undefined
    expect(error).toBeInstanceOf(RuntimeError)
    expect(error?.message).toBe('port proxy: open /proc/5/ns/net: No such file or directory')
    const short = parseProxyReport('port tcp 0.0.0.0 40000 80\nready\n', requested)
    expect(short && !short.ok ? short.error : undefined).toBeInstanceOf(RuntimeError)
  })
})

describe('slirpArgv', () => {
  const base = {slirp4netns: '/usr/bin/slirp4netns', shimPid: 10, containerPid: 20, apiSocket: '/run/c/slirp.sock'}
  it('disables host loopback unless allowed', () => {
    expect(slirpArgv({...base, allowHostLoopback: false})).toContain('--disable-host-loopback')
    expect(slirpArgv({...base, allowHostLoopback: true})).not.toContain('--disable-host-loopback')
  })
  it('joins the container user namespace, sandboxes itself, and uses fds 3 (exit) and 4 (ready)', () => {
    const argv = slirpArgv({...base, allowHostLoopback: false})
    expect(argv.slice(0, 6)).toEqual(['--target', '10', '--user', '--preserve-credentials', '--', '/usr/bin/slirp4netns'])
    expect(argv).toEqual(expect.arrayContaining(['--configure', '--mtu=65520', '--enable-sandbox', '--enable-seccomp', '--exit-fd=3', '--ready-fd=4', '--api-socket=/run/c/slirp.sock']))
    expect(argv.slice(-3)).toEqual(['--netns-type=path', '/proc/20/ns/net', 'tap0'])
  })
})
