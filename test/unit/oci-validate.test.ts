import {describe, expect, it} from 'vitest'
import {IntegrityError, UnsupportedMediaTypeError} from '../../src/errors.js'
import {manifestMediaType} from '../../src/oci/media-type.js'
import {MediaType} from '../../src/oci/types.js'
import {validateImageConfig, validateIndex, validateManifest} from '../../src/oci/validate.js'

const d = (n: number) => ({mediaType: MediaType.OciLayerGzip, digest: `sha256:${String(n).padStart(64, '0')}`, size: 10})
const diff = `sha256:${'a'.repeat(64)}`
const goodConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: {Env: ['PATH=/bin'], Cmd: ['sh'], Entrypoint: null, ExposedPorts: {'80/tcp': {}}, Labels: {a: 'b'}, Volumes: null},
  rootfs: {type: 'layers', diff_ids: [diff]},
  history: [{created_by: 'x', empty_layer: true}],
}

describe('image config schema (issue 17 item 5)', () => {
  it('accepts a well-formed config, with nulls where Go accepts them, and unknown fields', () => {
    expect(validateImageConfig({...goodConfig, container_config: {Hostname: 'x'}}, 'image config X')).toMatchObject({os: 'linux'})
    expect(() => validateImageConfig({...goodConfig, config: null}, 'c')).not.toThrow()
  })
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['Env as a string', {Env: 'PATH=/bin'}, 'image config X: .config.Env must be an array of strings, got a string'],
    ['Cmd as a number', {Cmd: 42}, 'image config X: .config.Cmd must be an array of strings, got a number'],
    ['ExposedPorts as a list', {ExposedPorts: ['80/tcp']}, 'image config X: .config.ExposedPorts must be an object (not a list), got a list'],
    ['an Env entry as a number', {Env: ['A=1', 7]}, 'image config X: .config.Env[1] must be a string, got a number'],
    ['Labels with a number', {Labels: {a: 1}}, 'image config X: .config.Labels.a must be a string, got a number'],
    ['User as an object', {User: {}}, 'image config X: .config.User must be a string, got an object'],
  ]
  for (const [name, config, message] of cases) {
    it(`refuses ${name} with one line naming the field`, () => {
      expect(() => validateImageConfig({...goodConfig, config: {...goodConfig.config, ...config}}, 'image config X')).toThrow(new IntegrityError(message))
    })
  }
  it('refuses missing or malformed rootfs and platform fields', () => {
    expect(() => validateImageConfig({...goodConfig, rootfs: undefined}, 'c')).toThrow(new IntegrityError('c: .rootfs is missing'))
    expect(() => validateImageConfig({...goodConfig, rootfs: {type: 'layers', diff_ids: ['sha256:zz']}}, 'c')).toThrow(/\.rootfs\.diff_ids\[0\] must be a sha256 digest/)
    expect(() => validateImageConfig({...goodConfig, os: 3}, 'c')).toThrow(/\.os must be a string, got a number/)
    expect(() => validateImageConfig([], 'c')).toThrow(new IntegrityError('c must be an object, got a list'))
  })
})

describe('manifest and index schemas', () => {
  const manifest = {schemaVersion: 2, mediaType: MediaType.OciManifest, config: {...d(1), mediaType: MediaType.OciConfig}, layers: [d(2)]}
  it('accepts a manifest and an index', () => {
    expect(validateManifest(manifest, 'm').layers).toHaveLength(1)
    expect(validateIndex({schemaVersion: 2, manifests: [{...d(3), platform: {os: 'linux', architecture: 'amd64'}}]}, 'i').manifests).toHaveLength(1)
  })
  it('names the wrongly typed field', () => {
    expect(() => validateManifest({...manifest, layers: [d(2), {...d(3), size: '10'}]}, 'manifest M')).toThrow(new IntegrityError('manifest M: .layers[1].size must be a number, got a string'))
    expect(() => validateManifest({...manifest, layers: [{...d(3), size: -1}]}, 'm')).toThrow(/\.layers\[0\]\.size must be a non-negative integer/)
    expect(() => validateManifest({...manifest, schemaVersion: 3}, 'm')).toThrow(/\.schemaVersion must be the number 2/)
    expect(() => validateManifest({...manifest, config: undefined}, 'm')).toThrow(/\.config is missing/)
    expect(() => validateIndex({schemaVersion: 2, manifests: {}}, 'i')).toThrow(/\.manifests must be an array of descriptors, got an object/)
    expect(() => validateIndex({schemaVersion: 2, manifests: [{...d(3), platform: {os: 'linux'}}]}, 'i')).toThrow(/\.manifests\[0\]\.platform\.architecture is missing/)
  })
})

describe('ambiguous manifests (issue 17 item 4, CVE-2021-41190)', () => {
  const j = (o: unknown) => Buffer.from(JSON.stringify(o))
  const both = {schemaVersion: 2, manifests: [], config: d(1), layers: []}
  it('refuses a document with both manifests and config/layers, whatever it claims', () => {
    for (const ct of [undefined, 'application/json', MediaType.OciIndex, MediaType.OciManifest]) {
      expect(() => manifestMediaType(both, ct, 'x')).toThrow(/ambiguous manifest: it has both "manifests" and "config"\/"layers"/)
      expect(() => manifestMediaType({...both, mediaType: MediaType.OciManifest}, ct, 'x')).toThrow(IntegrityError)
    }
    expect(() => manifestMediaType({schemaVersion: 2, manifests: [], layers: []}, undefined, 'x')).toThrow(/ambiguous/)
  })
  it('refuses a mediaType field that disagrees with the Content-Type', () => {
    expect(() => manifestMediaType({schemaVersion: 2, mediaType: MediaType.OciManifest, config: d(1), layers: []}, `${MediaType.DockerManifest}; charset=utf-8`, 'x')).toThrow(
      new IntegrityError(`x: ambiguous manifest: its mediaType ${MediaType.OciManifest} disagrees with the Content-Type ${MediaType.DockerManifest} it was served with (refused, CVE-2021-41190)`),
    )
  })
  it('refuses a mediaType field that disagrees with the content', () => {
    expect(() => manifestMediaType({schemaVersion: 2, mediaType: MediaType.OciIndex, config: d(1), layers: []}, undefined, 'x')).toThrow(/mediaType .*index.* but it has "config"\/"layers"/)
    expect(() => manifestMediaType({schemaVersion: 2, mediaType: MediaType.DockerManifest, manifests: []}, MediaType.DockerManifest, 'x')).toThrow(/but it has "manifests"/)
    expect(() => manifestMediaType({schemaVersion: 2, manifests: []}, MediaType.OciManifest, 'x')).toThrow(/but it has "manifests"/)
  })
  it('accepts coherent documents, inferring the type when nothing says it', () => {
    expect(manifestMediaType({schemaVersion: 2, manifests: []}, 'application/json', 'x')).toBe(MediaType.OciIndex)
    expect(manifestMediaType({schemaVersion: 2, config: d(1), layers: []}, undefined, 'x')).toBe(MediaType.OciManifest)
    expect(manifestMediaType({schemaVersion: 2, mediaType: MediaType.DockerManifest, config: d(1), layers: []}, MediaType.DockerManifest, 'x')).toBe(MediaType.DockerManifest)
    expect(manifestMediaType({schemaVersion: 2, config: d(1), layers: []}, MediaType.DockerManifest, 'x')).toBe(MediaType.DockerManifest)
    expect(() => manifestMediaType({schemaVersion: 2, mediaType: 7}, undefined, 'x')).toThrow(/\.mediaType must be a string, got a number/)
    expect(() => manifestMediaType({schemaVersion: 2, config: d(1), layers: []}, 'application/vnd.example+json', 'x')).toThrow(UnsupportedMediaTypeError)
    expect(j(1).length).toBe(1)
  })
})
