import * as v from 'valibot'
import {IntegrityError} from '../errors.js'
import {describeValue} from './media-type.js'
import type {ImageConfig, ImageIndex, ImageManifest} from './types.js'

/**
 * Schemas for what a registry sends: image manifests, indexes and image configurations. Every
 * document is validated here, at the boundary, before any stage uses it: a wrongly typed field is
 * one IntegrityError naming the document and the field (`image config sha256:…: .config.Env must
 * be an array of strings`), never a TypeError later. Unknown fields are allowed (the specs let
 * documents grow); fields ctr-ts reads are typed. Optional fields may be null, as Go's JSON
 * decoder (docker, containerd) accepts them.
 */

const isPlainObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)
/** An object, never a list (valibot's object and record schemas accept arrays). */
function obj<const E extends v.ObjectEntries>(entries: E, what = 'an object') {
  return v.pipe(v.custom<Record<string, unknown>>(isPlainObject, what), v.looseObject(entries, what))
}
function map<const S extends v.GenericSchema>(value: S, what: string) {
  return v.pipe(v.custom<Record<string, unknown>>(isPlainObject, what), v.record(v.string(), value, what))
}

const str = (what = 'a string') => v.string(what)
const optionalStr = v.nullish(str())
const stringArray = v.array(str('a string'), 'an array of strings')
const stringMap = map(str('a string'), 'an object of strings')
const objectMap = map(v.nullish(obj({})), 'an object (not a list)')

const descriptor = obj(
  {
    mediaType: str(),
    digest: v.pipe(str(), v.regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'a digest (algorithm:hex)')),
    size: v.pipe(v.number('a number'), v.safeInteger('a non-negative integer'), v.minValue(0, 'a non-negative integer')),
    urls: v.nullish(stringArray),
    annotations: v.nullish(stringMap),
    artifactType: optionalStr,
    platform: v.nullish(
      obj(
        {
          architecture: str(),
          os: str(),
          variant: optionalStr,
          'os.version': optionalStr,
          'os.features': v.nullish(stringArray),
        },
        'an object',
      ),
    ),
  },
  'a descriptor object',
)

const schemaVersion = v.literal(2, 'the number 2')

const manifestSchema = obj(
  {
    schemaVersion,
    mediaType: optionalStr,
    artifactType: optionalStr,
    config: descriptor,
    layers: v.array(descriptor, 'an array of descriptors'),
    subject: v.nullish(descriptor),
    annotations: v.nullish(stringMap),
  },
  'an object',
)

const indexSchema = obj(
  {
    schemaVersion,
    mediaType: optionalStr,
    manifests: v.array(descriptor, 'an array of descriptors'),
    annotations: v.nullish(stringMap),
  },
  'an object',
)

const command = v.nullish(stringArray)

const configSchema = obj(
  {
    created: optionalStr,
    author: optionalStr,
    architecture: str(),
    os: str(),
    variant: optionalStr,
    config: v.nullish(
      obj(
        {
          User: optionalStr,
          ExposedPorts: v.nullish(objectMap),
          Env: v.nullish(stringArray),
          Entrypoint: command,
          Cmd: command,
          Volumes: v.nullish(objectMap),
          WorkingDir: optionalStr,
          Labels: v.nullish(stringMap),
          StopSignal: optionalStr,
        },
        'an object',
      ),
    ),
    rootfs: obj(
      {
        type: v.literal('layers', 'the string "layers"'),
        diff_ids: v.array(v.pipe(str(), v.regex(/^sha256:[a-f0-9]{64}$/, 'a sha256 digest')), 'an array of digests'),
      },
      'an object',
    ),
    history: v.nullish(
      v.array(
        obj(
          {
            created: optionalStr,
            created_by: optionalStr,
            author: optionalStr,
            comment: optionalStr,
            empty_layer: v.nullish(v.boolean('true or false')),
          },
          'an object',
        ),
        'an array',
      ),
    ),
  },
  'an object',
)

/** `.config.Env`, `.layers[2].digest`, or `the document` for the top level. */
function fieldPath(issue: v.BaseIssue<unknown>): string {
  let out = ''
  for (const item of issue.path ?? []) {
    const key = item.key
    out += typeof key === 'number' ? `[${key}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(key)) ? `.${String(key)}` : `[${JSON.stringify(key)}]`
  }
  return out
}

function check<T>(schema: v.GenericSchema, value: unknown, what: string): T {
  const r = v.safeParse(schema, value, {abortEarly: true})
  if (r.success) return value as T
  const issue = r.issues[0]
  const path = fieldPath(issue)
  // A required key that is absent: valibot reports it against the object, with the key in the path.
  if (issue.input === undefined && path !== '') throw new IntegrityError(`${what}: ${path} is missing`)
  const got = describeValue(issue.input)
  throw new IntegrityError(path === '' ? `${what} must be ${issue.message}, got ${got}` : `${what}: ${path} must be ${issue.message}, got ${got}`)
}

export function validateManifest(doc: unknown, what: string): ImageManifest {
  return check<ImageManifest>(manifestSchema, doc, what)
}

export function validateIndex(doc: unknown, what: string): ImageIndex {
  return check<ImageIndex>(indexSchema, doc, what)
}

export function validateImageConfig(doc: unknown, what: string): ImageConfig {
  return check<ImageConfig>(configSchema, doc, what)
}
