import {describe, expect, it} from 'vitest'
import {TemplateError} from '../../src/errors.js'
import {formatInspect, formatOutput, type ListingFormat, resolveFormat} from '../../src/format/output.js'
import {tabwrite} from '../../src/format/tabwriter.js'

/** A ps row as a command would build it: docker's field names, a Label method, docker's JSON. */
class PsRow {
  readonly #labels: Record<string, string>
  constructor(
    readonly ID: string,
    readonly Image: string,
    readonly Command: string,
    readonly Status: string,
    readonly Ports: string,
    readonly Names: string,
    labels: Record<string, string> = {},
  ) {
    this.#labels = labels
  }
  get Labels(): string {
    return Object.entries(this.#labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')
  }
  Label(name: string): string {
    return this.#labels[name] ?? ''
  }
  toJSON(): Record<string, string> {
    return {ID: this.ID, Image: this.Image, Command: this.Command, Status: this.Status, Ports: this.Ports, Names: this.Names, Labels: this.Labels}
  }
}

const PS: ListingFormat = {
  defaultTable: '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}',
  headers: {ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', Status: 'STATUS', Ports: 'PORTS', Names: 'NAMES', Labels: 'LABELS', Label: () => 'LABEL'},
}

const rows = [
  new PsRow('4c01db0b339c', 'ubuntu:24.04', '"bash"', 'Up 11 seconds', '', 'test', {'com.example.version': '1.0'}),
  new PsRow('d7886598dbe2', 'crosbymichael/redis:latest', '"/redis-server --dir"', 'Up 33 minutes', '0.0.0.0:6379->6379/tcp', 'redis,webapp/db'),
]

describe('formatOutput: docker ps --format', () => {
  it('prints the default columns for no --format and for `table`', () => {
    const expected = [
      'CONTAINER ID   IMAGE                        COMMAND                 STATUS          PORTS                    NAMES',
      '4c01db0b339c   ubuntu:24.04                 "bash"                  Up 11 seconds                            test',
      'd7886598dbe2   crosbymichael/redis:latest   "/redis-server --dir"   Up 33 minutes   0.0.0.0:6379->6379/tcp   redis,webapp/db',
      '',
    ].join('\n')
    expect(formatOutput(undefined, rows, PS)).toBe(expected)
    expect(formatOutput('table', rows, PS)).toBe(expected)
    expect(formatOutput('', rows, PS)).toBe(expected)
  })
  it('prints the header alone for an empty table, nothing for an empty template list', () => {
    expect(formatOutput('table', [], PS)).toBe('CONTAINER ID   IMAGE     COMMAND   STATUS    PORTS     NAMES\n')
    expect(formatOutput('{{.ID}}', [], PS)).toBe('')
  })
  it('runs a plain template once per item; \\t typed in a shell is a tab (docker docs: {{.ID}}: {{.Command}})', () => {
    expect(formatOutput('{{.ID}}: {{.Command}}', rows, PS)).toBe('4c01db0b339c: "bash"\nd7886598dbe2: "/redis-server --dir"\n')
    expect(formatOutput('{{.ID}}\\t{{.Image}}', rows, PS)).toBe('4c01db0b339c\tubuntu:24.04\nd7886598dbe2\tcrosbymichael/redis:latest\n')
    expect(formatOutput('{{.Names}}\\n', rows, PS)).toBe('test\n\nredis,webapp/db\n\n')
  })
  it('aligns `table TEMPLATE` with a header from the header map (docker docs: table {{.ID}}\\t{{.Labels}})', () => {
    expect(formatOutput('table {{.ID}}\\t{{.Labels}}', rows, PS)).toBe(
      ['CONTAINER ID   LABELS', '4c01db0b339c   com.example.version=1.0', 'd7886598dbe2   ', ''].join('\n'),
    )
    expect(formatOutput('table {{.ID}}\t{{.Names}}', rows, PS)).toBe(['CONTAINER ID   NAMES', '4c01db0b339c   test', 'd7886598dbe2   redis,webapp/db', ''].join('\n'))
  })
  it('keeps the header names through docker\'s header functions and heads a method column', () => {
    expect(formatOutput('table {{lower .Names}}\t{{.Label "com.example.version"}}\t{{truncate .ID 4}}', rows, PS)).toBe(
      ['NAMES             LABEL     CONTAINER ID', 'test              1.0       4c01', 'redis,webapp/db             d788', ''].join('\n'),
    )
  })
  it('heads a column without a header name <no value>, as docker does', () => {
    expect(formatOutput('table {{.ID}}\t{{.Nope}}', [], {defaultTable: '', headers: {ID: 'ID'}})).toBe('ID        <no value>\n')
  })
  it('prints one JSON object per line for `json` (toJSON gives a map: keys sorted, as docker\'s ps JSON is)', () => {
    expect(formatOutput('json', rows, PS)).toBe(
      '{"Command":"\\"bash\\"","ID":"4c01db0b339c","Image":"ubuntu:24.04","Labels":"com.example.version=1.0","Names":"test","Ports":"","Status":"Up 11 seconds"}\n' +
        '{"Command":"\\"/redis-server --dir\\"","ID":"d7886598dbe2","Image":"crosbymichael/redis:latest","Labels":"","Names":"redis,webapp/db","Ports":"0.0.0.0:6379->6379/tcp","Status":"Up 33 minutes"}\n',
    )
  })
  it('is one TemplateError line, docker\'s wording, for a template that does not parse or fails', () => {
    expect(() => formatOutput('{{.ID', rows, PS)).toThrow(new TemplateError('template parsing error: template: :1: unclosed action'))
    expect(() => formatOutput('table {{.Nope}}', rows, PS)).toThrow(
      new TemplateError('template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type PsRow'),
    )
    expect(() => formatOutput('{{foo .ID}}', rows, PS)).toThrow('template parsing error: template: :1: function "foo" not defined')
  })
  it('prints plain-field templates (the default tables, read without the engine) as the engine does', () => {
    // `{{ .X }}` (spaces) is not a plain field: the engine's output, to compare with
    const viaEngine = (f: string) => f.replace(/\{\{\.(\w+)\}\}/g, '{{ .$1 }}')
    for (const f of ['table', 'table {{.ID}}\t{{.Labels}}', '{{.ID}}: {{.Command}}', 'x {{.Names}}\\n', 'table {{.ID}}\t{{.Nope}}']) {
      const plain = f === 'table' ? `table ${PS.defaultTable}` : f
      const headers = {...PS, headers: {...PS.headers}}
      if (f.includes('Nope')) {
        expect(() => formatOutput(plain, rows, headers)).toThrow(TemplateError)
        expect(formatOutput(plain, [], headers)).toBe(formatOutput(viaEngine(plain), [], headers))
        continue
      }
      expect(formatOutput(plain, rows, headers)).toBe(formatOutput(viaEngine(plain), rows, headers))
    }
    // a field that is not a string (a number, a method) goes through the engine
    const odd = [{ID: 7, Names: 'a'}, {ID: 'x', Names: 'b'}]
    expect(formatOutput('{{.ID}}-{{.Names}}', odd, PS)).toBe('7-a\nx-b\n')
    expect(formatOutput('{{.Label}}', [], PS)).toBe('')
  })
  it('resolves the format like docker: table prefix, trimmed spaces, \\t and \\n', () => {
    expect(resolveFormat('table', PS)).toEqual({template: PS.defaultTable, table: true})
    expect(resolveFormat('json', PS)).toEqual({template: '{{json .}}', table: false})
    expect(resolveFormat('  {{.ID}}\\t{{.Names}}  ', PS)).toEqual({template: '{{.ID}}\t{{.Names}}', table: false})
    expect(resolveFormat('table{{.ID}}', PS)).toEqual({template: '{{.ID}}', table: true})
  })
})

describe('formatOutput: docker images --format', () => {
  const IMAGES: ListingFormat = {
    defaultTable: '{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
    headers: {Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', Digest: 'DIGEST'},
  }
  const images = [
    {Repository: 'alpine', Tag: '3.20', ID: 'a606584aa9aa', CreatedSince: '2 weeks ago', Size: '7.8MB', Digest: 'sha256:beefdbd8a1da'},
    {Repository: 'localhost:5000/busybox', Tag: 'latest', ID: '3f57d9401f8d', CreatedSince: '3 months ago', Size: '4.26MB', Digest: '<none>'},
  ]
  it('runs docker\'s documented templates', () => {
    expect(formatOutput('{{.ID}}: {{.Repository}}', images, IMAGES)).toBe('a606584aa9aa: alpine\n3f57d9401f8d: localhost:5000/busybox\n')
    expect(formatOutput('table {{.ID}}\\t{{.Repository}}\\t{{.Tag}}', images, IMAGES)).toBe(
      ['IMAGE ID       REPOSITORY               TAG', 'a606584aa9aa   alpine                   3.20', '3f57d9401f8d   localhost:5000/busybox   latest', ''].join('\n'),
    )
    expect(formatOutput('{{.Repository}}:{{.Tag}} {{if eq .Digest "<none>"}}unpinned{{else}}{{.Digest}}{{end}}', images, IMAGES)).toBe(
      'alpine:3.20 sha256:beefdbd8a1da\nlocalhost:5000/busybox:latest unpinned\n',
    )
  })
  it('prints the default table', () => {
    expect(formatOutput(undefined, images, IMAGES)).toBe(
      [
        'REPOSITORY               TAG       IMAGE ID       CREATED        SIZE',
        'alpine                   3.20      a606584aa9aa   2 weeks ago    7.8MB',
        'localhost:5000/busybox   latest    3f57d9401f8d   3 months ago   4.26MB',
        '',
      ].join('\n'),
    )
  })
})

describe('formatInspect: docker inspect -f', () => {
  const ctr = {
    Id: '4c01db0b339c4c01db0b339c',
    Name: '/web',
    State: {Status: 'running', Running: true, Pid: 4242, ExitCode: 0, StartedAt: '2024-01-01T00:00:00Z', Health: null},
    Config: {Env: ['PATH=/usr/bin', 'A=1'], Labels: {'com.example': 'yes', a: 'b'}, Cmd: ['sh', '-c', 'echo hi']},
    HostConfig: {AutoRemove: false, LogConfig: {Type: 'json-file', Config: {'max-size': '10m'}}},
    NetworkSettings: {IPAddress: '10.0.2.100', Ports: {'80/tcp': [{HostIp: '0.0.0.0', HostPort: '8080'}]}, Networks: {slirp4netns: {IPAddress: '10.0.2.100'}}},
    Mounts: [{Type: 'bind', Source: '/data', Destination: '/d'}],
    RestartCount: 0,
  }
  it('prints the items as an indented JSON array with no format or `json`', () => {
    const out = formatInspect(undefined, [{B: 1, A: {y: [1, 2], x: {}}}])
    expect(out).toBe('[\n    {\n        "B": 1,\n        "A": {\n            "y": [\n                1,\n                2\n            ],\n            "x": {}\n        }\n    }\n]\n')
    // docker's map fields (Labels, ...) print their keys sorted
    expect(formatInspect(undefined, [{Labels: {b: '1', a: '2'}}])).toBe('[\n    {\n        "Labels": {\n            "a": "2",\n            "b": "1"\n        }\n    }\n]\n')
    expect(formatInspect('json', [])).toBe('[]\n')
  })
  it('runs docker\'s documented inspect templates', () => {
    const cases: [string, string][] = [
      ['{{.State.Status}}', 'running'],
      ['{{.State.Running}} {{.State.Pid}} {{.State.ExitCode}} {{.State.StartedAt}}', 'true 4242 0 2024-01-01T00:00:00Z'],
      ['{{.Name}}', '/web'],
      ['{{if .State.Running}}up{{else}}down{{end}}', 'up'],
      ['{{range .Mounts}}{{.Source}}{{end}}', '/data'],
      ['{{index .Config.Labels "com.example"}}', 'yes'],
      ['{{index .Config.Labels "nope"}}', ''],
      ['{{.Config.Labels.nope}}', '<no value>'],
      ['{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', 'a=b;com.example=yes;'],
      ['{{join .Config.Cmd " "}}', 'sh -c echo hi'],
      ['{{json .Config.Labels}}', '{"a":"b","com.example":"yes"}'],
      ['{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', '10.0.2.100'],
      ['{{range $p, $conf := .NetworkSettings.Ports}}{{$p}} -> {{(index $conf 0).HostPort}}{{end}}', '80/tcp -> 8080'],
      ['{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}', '8080'],
      ['{{.HostConfig.AutoRemove}} {{index .HostConfig.LogConfig.Config "max-size"}}', 'false 10m'],
      ['{{lower .Name}} {{printf "%-10s|" .Name}} {{.RestartCount}}', '/web /web      | 0'],
      ['{{.State.Health}}', '<nil>'],
      ['{{range .Config.Env}}{{println .}}{{end}}', 'PATH=/usr/bin\nA=1\n'],
    ]
    for (const [template, expected] of cases) expect(formatInspect(template, [ctr]), template).toBe(`${expected}\n`)
  })
  it('fails on an unknown field of docker\'s structs, as docker inspect does', () => {
    expect(() => formatInspect('{{.Nope}}', [ctr])).toThrow(/^template parsing error: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type struct$/)
    expect(() => formatInspect('{{.State.Health.Status}}', [ctr])).toThrow(/nil pointer evaluating interface \{\}.Status/)
  })
  it('prints one line per item for several names', () => {
    expect(formatInspect('{{.Name}}', [ctr, {...ctr, Name: '/db'}])).toBe('/web\n/db\n')
  })
})

describe('tabwrite: Go text/tabwriter with docker settings (outputs checked against Go)', () => {
  const cases: [string, string][] = [
    ['A\tB\na\n\tc\td\nxx\tyyyyyyyyyyyyyyy\tz\n', 'A         B\na\n          c                 d\nxx        yyyyyyyyyyyyyyy   z\n'],
    ['héllo\twörld\tx\n1\t2\t3', 'héllo     wörld     x\n1         2         3'],
    ['a\tb\tc\td\n1\t2\n1\t2\t3\t4\t5\n\n6\t7\n', 'a         b         c         d\n1         2\n1         2         3         4         5\n\n6         7\n'],
    ['x\t\n', 'x         \n'],
    ['', ''],
  ]
  it.each(cases)('%j', (input, expected) => {
    expect(tabwrite(input)).toBe(expected)
  })
})
