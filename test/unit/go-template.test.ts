import {describe, expect, it} from 'vitest'
import {TemplateError, UsageError} from '../../src/errors.js'
import {GoTemplate, goStruct} from '../../src/format/go-template.js'

/** What a template prints on `data`, or its error message. */
function run(template: string, data: unknown): string | {error: string} {
  try {
    return GoTemplate.parse(template).execute(data)
  } catch (e) {
    if (e instanceof TemplateError) return {error: e.message}
    throw e
  }
}
const err = (error: string) => ({error})

/** docker inspect/ps-like data, as plain JSON: every object is a Go map (docker's raw fallback). */
const DATA = {
  "ID": "abc123def456",
  "Names": "web",
  "Image": "alpine:3",
  "Command": "sh -c 'x'",
  "Args": [
    "-c",
    "echo hi"
  ],
  "State": {
    "Status": "running",
    "Running": true,
    "ExitCode": 0,
    "Pid": 4242,
    "StartedAt": "2024-01-01T00:00:00Z",
    "Health": null
  },
  "Config": {
    "Env": [
      "A=1",
      "B=2"
    ],
    "Labels": {
      "com.example": "yes",
      "b": "two"
    },
    "Cmd": [
      "sh"
    ]
  },
  "Mounts": [
    {
      "Source": "/data",
      "Destination": "/d"
    },
    {
      "Source": "/logs",
      "Destination": "/l"
    }
  ],
  "Name": "/Web-Server",
  "Size": 1.5,
  "Big": 1234567,
  "Neg": -3,
  "Empty": "",
  "Zero": 0,
  "EmptyList": [],
  "EmptyMap": {},
  "Mixed": [
    1,
    "a",
    true,
    null
  ],
  "Ports": {
    "80/tcp": [
      {
        "HostIp": "0.0.0.0",
        "HostPort": "8080"
      }
    ]
  },
  "F": 1.2e-05,
  "Uni": "héllo wörld"
}

/**
 * Expected outputs produced by Go's text/template (go1.19) with docker's template functions
 * (docker/cli templates.basicFunctions), executed on DATA decoded from JSON (objects whose values
 * are all strings as map[string]string, arrays of strings as []string, the way docker's typed
 * Labels and Args are). Every line below is what Go printed, error messages included.
 */
const GO_CASES: [string, string | {error: string}][] = [
  ["{{.ID}}\t{{.Image}}", "abc123def456\talpine:3"],
  ["{{.State.Status}}", "running"],
  ["{{.State.Pid}}", "4242"],
  ["{{.State.Running}}", "true"],
  ["{{.State.Health.Status}}", err("template: :1:8: executing \"\" at <.State.Health.Status>: nil pointer evaluating interface {}.Status")],
  ["{{.Nope}}", "<no value>"],
  ["{{.State.Nope}}", "<no value>"],
  ["{{.Nope.Deeper}}", "<no value>"],
  ["{{json .}}", "{\"Args\":[\"-c\",\"echo hi\"],\"Big\":1234567,\"Command\":\"sh -c 'x'\",\"Config\":{\"Cmd\":[\"sh\"],\"Env\":[\"A=1\",\"B=2\"],\"Labels\":{\"b\":\"two\",\"com.example\":\"yes\"}},\"Empty\":\"\",\"EmptyList\":[],\"EmptyMap\":{},\"F\":0.000012,\"ID\":\"abc123def456\",\"Image\":\"alpine:3\",\"Mixed\":[1,\"a\",true,null],\"Mounts\":[{\"Destination\":\"/d\",\"Source\":\"/data\"},{\"Destination\":\"/l\",\"Source\":\"/logs\"}],\"Name\":\"/Web-Server\",\"Names\":\"web\",\"Neg\":-3,\"Ports\":{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"}]},\"Size\":1.5,\"State\":{\"ExitCode\":0,\"Health\":null,\"Pid\":4242,\"Running\":true,\"StartedAt\":\"2024-01-01T00:00:00Z\",\"Status\":\"running\"},\"Uni\":\"héllo wörld\",\"Zero\":0}"],
  ["{{json .Config}}", "{\"Cmd\":[\"sh\"],\"Env\":[\"A=1\",\"B=2\"],\"Labels\":{\"b\":\"two\",\"com.example\":\"yes\"}}"],
  ["{{json .Mixed}}", "[1,\"a\",true,null]"],
  ["{{json .Nope}}", "null"],
  ["{{join .Args \" \"}}", "-c echo hi"],
  ["{{join .Mixed \",\"}}", err("template: :1:7: executing \"\" at <.Mixed>: wrong type for value; expected []string; got []interface {}")],
  ["{{join .Nope \",\"}}", ""],
  ["{{range .Mounts}}{{.Source}}{{end}}", "/data/logs"],
  ["{{range $i, $m := .Mounts}}{{$i}}={{$m.Destination}};{{end}}", "0=/d;1=/l;"],
  ["{{range .EmptyList}}x{{else}}none{{end}}", "none"],
  ["{{range .Nope}}x{{else}}none{{end}}", "none"],
  ["{{range .Name}}x{{end}}", err("template: :1:8: executing \"\" at <.Name>: range can't iterate over /Web-Server")],
  ["{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "b=two;com.example=yes;"],
  ["{{range .Config.Labels}}{{.}},{{end}}", "two,yes,"],
  ["{{index .Config.Labels \"com.example\"}}", "yes"],
  ["{{index .Config.Labels \"nope\"}}|", "|"],
  ["{{index .Mixed 1}}", "a"],
  ["{{index .Mixed 9}}", err("template: :1:2: executing \"\" at <index .Mixed 9>: error calling index: index out of range: 9")],
  ["{{index .Ports \"80/tcp\" 0 \"HostPort\"}}", "8080"],
  ["{{(index (index .Ports \"80/tcp\") 0).HostPort}}", "8080"],
  ["{{index .Name 1}}", "87"],
  ["{{index .Nope 1}}", err("template: :1:2: executing \"\" at <index .Nope 1>: error calling index: index of untyped nil")],
  ["{{if .State.Running}}up{{else}}down{{end}}", "up"],
  ["{{if .Zero}}a{{else if .Empty}}b{{else if .Names}}c{{end}}", "c"],
  ["{{if and .State.Running .Empty}}y{{else}}n{{end}}", "n"],
  ["{{and 1 0 2}} {{or 0 \"\" \"x\"}} {{or 0 \"\"}} {{not .Empty}}", "0 x  true"],
  ["{{with .State}}{{.Status}}{{end}}", "running"],
  ["{{with .Empty}}x{{else}}empty{{end}}", "empty"],
  ["{{lower .Name}} {{upper .Name}} {{title \"hello big-world foo_bar\"}}", "/web-server /WEB-SERVER Hello Big-World Foo_bar"],
  ["{{printf \"%-10s|\" .Names}}", "web       |"],
  ["{{printf \"%5s|%-5s|%05d|%x|%X|%q|%v|%t|%d\" .Names .Names .Neg .Names .Big .Name .Args .State.Running .Big}}", "  web|web  |-0003|776562|12D687|\"/Web-Server\"|[-c echo hi]|true|1234567"],
  ["{{printf \"%s %d\" .Big .Names}}", "%!s(int=1234567) %!d(string=web)"],
  ["{{printf \"%v %v\" .Config.Labels .Mixed}}", "map[b:two com.example:yes] [1 a true <nil>]"],
  ["{{printf \"%.2f %e %g %v\" .Size .Size .F .F}}", "1.50 1.500000e+00 1.2e-05 1.2e-05"],
  ["{{printf \"%d\"}}", "%!d(MISSING)"],
  ["{{printf \"%d\" 1 2}}", "1%!(EXTRA int=2)"],
  ["{{printf \"%T %T %T %T %T\" .Names .Big .Size .Args .Config.Labels}}", "string int float64 []string map[string]string"],
  ["{{print .Names .Big .Zero \"x\" 1 2}}", "web1234567 0x1 2"],
  ["{{println .Names .Big}}", "web 1234567\n"],
  ["{{print .Nope}} {{printf \"%v\" .Nope}}", "<nil> <nil>"],
  ["{{len .Big}}", err("template: :1:2: executing \"\" at <len .Big>: error calling len: len of type int")],
  ["{{slice .Args 1}} {{slice .Names 1 2}} {{slice .Args 0 5}}", err("template: :1:41: executing \"\" at <slice .Args 0 5>: error calling slice: index out of range: 5")],
  ["{{eq .Names \"web\"}} {{eq .Names \"x\" \"web\"}} {{ne .Zero 0}} {{eq .Nope \"x\"}}", "true true false false"],
  ["{{eq .Names 1}}", err("template: :1:2: executing \"\" at <eq .Names 1>: error calling eq: incompatible types for comparison")],
  ["{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}}", "true true true false"],
  ["{{lt .Args 1}}", err("template: :1:2: executing \"\" at <lt .Args 1>: error calling lt: invalid type for comparison")],
  ["{{lt true false}}", err("template: :1:2: executing \"\" at <lt true false>: error calling lt: invalid type for comparison")],
  ["{{.Names | printf \"%s!\"}} {{.Big | printf \"%d-%d\" 1}}", "web! 1-1234567"],
  ["{{.Names | upper | printf \"<%s>\"}}", "<WEB>"],
  ["{{$x := .Names}}{{$x}} {{$}} ", "web map[Args:[-c echo hi] Big:1234567 Command:sh -c 'x' Config:map[Cmd:[sh] Env:[A=1 B=2] Labels:map[b:two com.example:yes]] Empty: EmptyList:[] EmptyMap:map[] F:1.2e-05 ID:abc123def456 Image:alpine:3 Mixed:[1 a true <nil>] Mounts:[map[Destination:/d Source:/data] map[Destination:/l Source:/logs]] Name:/Web-Server Names:web Neg:-3 Ports:map[80/tcp:[map[HostIp:0.0.0.0 HostPort:8080]]] Size:1.5 State:map[ExitCode:0 Health:<nil> Pid:4242 Running:true StartedAt:2024-01-01T00:00:00Z Status:running] Uni:héllo wörld Zero:0] "],
  ["{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"],
  ["{{$x := \"a\"}}{{range .Args}}{{$x}}{{end}}", "aa"],
  ["{{- .Names -}}   and   {{- .Image }}", "webandalpine:3"],
  ["a  {{- /* comment */ -}}  b", "ab"],
  ["a {{/* c */}} b", "a  b"],
  ["{{split \"a,b,c\" \",\"}} {{index (split \"a,b\" \",\") 1}} {{split \"\" \",\"}} {{len (split \"\" \",\")}}", "[a b c] b [] 1"],
  ["{{pad .Names 2 3}}| {{pad \"\" 2 3}}| {{truncate .ID 5}} {{truncate \"ab\" 5}}", "  web   | | abc12 ab"],
  ["{{json .Name}} {{json 1}} {{json \"a<b>&\"}}", "\"/Web-Server\" 1 \"a<b>&\""],
  ["{{\"a\\tb\\u00e9\\x41\"}} {{`raw\\n`}}", "a\tbéA raw\\n"],
  ["{{true}} {{false}} {{.Config.Labels}} {{.Mixed}} {{.EmptyList}} {{.EmptyMap}}", "true false map[b:two com.example:yes] [1 a true <nil>] [] map[]"],
  ["{{.Config}}", "map[Cmd:[sh] Env:[A=1 B=2] Labels:map[b:two com.example:yes]]"],
  ["{{nil}}", err("template: :1:2: executing \"\" at <nil>: nil is not a command")],
  ["{{.Names 1}}", err("template: :1:2: executing \"\" at <.Names>: Names is not a method but has arguments")],
  ["{{.Config.Labels.b 1}}", err("template: :1:9: executing \"\" at <.Config.Labels.b>: b is not a method but has arguments")],
  ["{{. | len}}", "20"],
  ["{{html \"<a href='x'>&\\\"\"}} {{js \"it's <b>\\n\"}} {{urlquery \"a b&c=d/é\"}}", "&lt;a href=&#39;x&#39;&gt;&amp;&#34; it\\'s \\u003Cb\\u003E\\u000A a+b%26c%3Dd%2F%C3%A9"],
  ["{{range $i, $e := .Args}}{{if eq $i 1}}{{break}}{{end}}{{$e}}{{end}}", "-c"],
  ["{{range .Args}}{{if eq . \"-c\"}}{{continue}}{{end}}[{{.}}]{{end}}", "[echo hi]"],
  ["{{define \"x\"}}<{{.}}>{{end}}{{template \"x\" .Names}}{{template \"x\"}}", "<web><<no value>>"],
  ["{{block \"b\" .Image}}[{{.}}]{{end}}", "[alpine:3]"],
  ["{{template \"nope\"}}", err("template: :1:11: executing \"\" at <{{template \"nope\"}}>: template \"nope\" not defined")],
  ["{{with $x := .State}}{{$x.Pid}}{{end}}", "4242"],
  ["{{(.State).Status}} {{(printf \"%s\" \"x\")}}", "running x"],
  ["{{.ID | len | printf \"%d\"}}", "12"],
  ["{{.Names", err("template: :1: unclosed action")],
  ["}}", "}}"],
  ["{{printf \"%6.2f|%-8.3s|%+d|% d|%#x|%#o|%b|%c|%U|%#v\" 3.14159 .Uni 5 5 255 8 5 65 9731 .Names}}", "  3.14|hél     |+5| 5|0xff|010|101|A|U+2603|\"web\""],
  ["{{printf \"%[2]s %[1]s\" \"a\" \"b\"}} {{printf \"%*d|\" 5 42}}", "b a    42|"],
  ["{{printf \"%q\" .Args}} {{printf \"%x\" .Args}} {{printf \"%5v|\" .Args}}", "[\"-c\" \"echo hi\"] [2d63 6563686f206869] [   -c echo hi]|"],
  ["{{printf \"%v\" .State}}", "map[ExitCode:0 Health:<nil> Pid:4242 Running:true StartedAt:2024-01-01T00:00:00Z Status:running]"],
  ["{{printf \"%s\" .Mixed}}", "[%!s(int=1) a %!s(bool=true) <nil>]"],
  ["{{index .Config.Labels}}", "map[b:two com.example:yes]"],
  ["{{index .Args \"x\"}}", err("template: :1:2: executing \"\" at <index .Args \"x\">: error calling index: cannot index slice/array with type string")],
  ["{{lower 1}}", err("template: :1:8: executing \"\" at <1>: expected string; found 1")],
  ["{{lower .Nope}}", err("template: :1:8: executing \"\" at <.Nope>: invalid value; expected string")],
  ["{{join .Config.Labels \",\"}}", err("template: :1:14: executing \"\" at <.Config.Labels>: wrong type for value; expected []string; got map[string]string")],
  ["{{truncate .Names \"x\"}}", err("template: :1:18: executing \"\" at <\"x\">: expected integer; found \"x\"")],
  ["{{upper}}", err("template: :1:2: executing \"\" at <upper>: wrong number of args for upper: want 1 got 0")],
  ["{{upper \"a\" \"b\"}}", err("template: :1:2: executing \"\" at <upper>: wrong number of args for upper: want 1 got 2")],
  ["{{printf}}", err("template: :1:2: executing \"\" at <printf>: wrong number of args for printf: want at least 1 got 0")],
  ["{{.Names | printf \"%s %s\" | upper}}", "WEB %!S(MISSING)"],
  ["{{call .Names}}", err("template: :1:2: executing \"\" at <call .Names>: error calling call: non-function of type string")],
  ["{{.Names", err("template: :1: unclosed action")],
  ["{{.Names}", err("template: :1: bad character U+007D '}'")],
  ["{{end}}", err("template: :1: unexpected {{end}}")],
  ["{{if .X}}", err("template: :1: unexpected EOF")],
  ["{{else}}", err("template: :1: unexpected {{else}}")],
  ["{{foo}}", err("template: :1: function \"foo\" not defined")],
  ["{{$x}}", err("template: :1: undefined variable \"$x\"")],
  ["{{range}}{{end}}", err("template: :1: missing value for range")],
  ["{{if}}{{end}}", err("template: :1: missing value for if")],
  ["{{}}", err("template: :1: missing value for command")],
  ["{{.X | 3}}", err("template: :1: non executable command in pipeline stage 2")],
  ["{{\"abc}}", err("template: :1: unterminated quoted string")],
  ["{{1x}}", err("template: :1: bad number syntax: \"1x\"")],
  ["{{(.X}}", err("template: :1: unclosed left paren")],
  ["{{.X)}}", err("template: :1: unexpected \")\" in command")],
  ["{{/* abc }}", err("template: :1: unclosed comment")],
  ["{{/* abc */ }}", err("template: :1: comment ends before closing delimiter")],
  ["{{.X := 1}}", err("template: :1: unexpected \":=\" in operand")],
  ["{{range $a, $b, $c := .X}}{{end}}", err("template: :1: too many declarations in range")],
  ["{{break}}", err("template: :1: {{break}} outside {{range}}")],
  ["{{if .X}}{{else}}{{else}}{{end}}", err("template: :1: expected end; found {{else}}")],
  ["{{.X.}}", err("template: :1: unexpected <.> in operand")],
  ["{{3.X}}", err("template: :1: bad number syntax: \"3.X\"")],
  ["{{\"x\".Y}}", err("template: :1: unexpected . after term \"\\\"x\\\"\"")],
  ["{{.A", err("template: :1: unclosed action")],
  [".B}}", ".B}}"],
  ["a", "a"],
  ["b", "b"],
  ["{{.X!}}", err("template: :1: bad character U+0021 '!'")],
  ["{{template 3}}", err("template: :1: unexpected \"3\" in template clause")],
  ["{{define \"a\"}}{{else}}{{end}}", err("template: :1: unexpected {{else}} in define clause")],
  ["{{with .X}}{{else if .Y}}{{end}}", err("template: :1: unexpected <if> in input")],
  ["{{range .X}}{{else if .Y}}{{end}}", err("template: :1: unexpected <if> in input")],
  ["line1\n{{.Nope}}", "line1\n<no value>"],
  ["a\n  b {{.Nope.X}}", "a\n  b <no value>"],
  ["{{if .State.Running}}\n{{.X.Y.Z}}{{end}}", "\n<no value>"],
  ["x\n{{end}}", err("template: :2: unexpected {{end}}")],
  ["{{.Names\n|\nupper}}", "WEB"],
  ["é {{.Nope}}", "é <no value>"],
  ["{{if .A}}\n\n{{.B}}", err("template: :3: unexpected EOF")],
]

describe('Go templates, compared with what Go prints', () => {
  it.each(GO_CASES)('%j', (template, expected) => {
    expect(run(template, DATA)).toEqual(expected)
  })
})

/** Second data set: printf verbs, quoting, escaping functions, comparisons, scoping, parse errors. */
const DATA2 = {"S": "héllo", "N": 42, "F": 3.14159, "Neg": -7, "B": true, "L": ["x", "y"], "M": {"k": "v", "a": "b"}, "E": "", "Z": 0, "Nested": {"A": {"B": {"C": "deep"}}}, "Arr": [[1, 2], [3]], "Q": "a\"b\\c\n\t\u0001é😀"}

/** Expected outputs produced the same way as GO_CASES (Go's text/template, docker's functions). */
const GO_CASES_2: [string, string | {error: string}][] = [
  ["{{printf \"%q\" .Q}}", "\"a\\\"b\\\\c\\n\\t\\x01é😀\""],
  ["{{printf \"%+q\" .Q}}", "\"a\\\"b\\\\c\\n\\t\\x01\\u00e9\\U0001f600\""],
  ["{{printf \"%#q\" .S}}", "`héllo`"],
  ["{{printf \"%#q\" .Q}}", "\"a\\\"b\\\\c\\n\\t\\x01é😀\""],
  ["{{printf \"%x\" .S}} {{printf \"% x\" .S}} {{printf \"%X\" .S}} {{printf \"%#x\" .S}}", "68c3a96c6c6f 68 c3 a9 6c 6c 6f 68C3A96C6C6F 0x68c3a96c6c6f"],
  ["{{printf \"%10.3s|%-10.3s|\" .S .S}}", "       hél|hél       |"],
  ["{{printf \"%05s|%-05s|%05d|%-05d|%+05d\" \"ab\" \"ab\" .Neg .Neg .N}}", "000ab|ab   |-0007|-7   |+0042"],
  ["{{printf \"%g|%g|%g\" 1e21 1e20 123456789.0}}", "1e+21|1e+20|1.23456789e+08"],
  ["{{printf \"%o|%O|%b|%#b|%#o|%x|%#X\" .N .N .N .N .N .Neg .N}}", "52|0o52|101010|0b101010|052|-7|0X2A"],
  ["{{printf \"%c|%q|%U|%#U\" 9731 9731 9731 128512}}", "☃|'☃'|U+2603|U+1F600 '😀'"],
  ["{{printf \"%t|%t\" .B .N}}", "true|%!t(int=42)"],
  ["{{printf \"%v|%d|%s\" .L .L .L}}", "[x y]|[%!d(string=x) %!d(string=y)]|[x y]"],
  ["{{printf \"%v|%s|%q\" .M .M .M}}", "map[a:b k:v]|map[a:b k:v]|map[\"a\":\"b\" \"k\":\"v\"]"],
  ["{{printf \"%v\" .Arr}} {{printf \"%d\" .Arr}}", "[[1 2] [3]] [[1 2] [3]]"],
  ["{{printf \"%6.2v|%.0f|%.0f|%.0f\" .F 0.5 1.5 2.5}}", "   3.1|0|2|2"],
  ["{{printf \"%3c|%-3c|%03d\" 65 65 7}}", "  A|A  |007"],
  ["{{printf \"%!\"}}", "%!!(MISSING)"],
  ["{{printf \"%\"}}", "%!(NOVERB)"],
  ["{{printf \"%z\" 1}}", "%!z(int=1)"],
  ["{{printf \"%[3]d %[1]d\" 1 2}}", "%!d(BADINDEX) 1"],
  ["{{printf \"%[0]d\" 1}}", "%!d(BADINDEX)"],
  ["{{printf \"%d %[1]d %d\" 1 2}}", "1 1 2"],
  ["{{printf \"%.*f|%*s|%-*s|\" 2 3.14159 6 \"ab\" 4 \"c\"}}", "3.14|    ab|c   |"],
  ["{{printf \"%s\" nil}} {{printf \"%v\" nil}} {{printf \"%d\" nil}}", "%!s(<nil>) <nil> %!d(<nil>)"],
  ["{{printf \"%T|%T|%T|%T|%T\" .B .E .Nested nil .L}}", "bool|string|map[string]interface {}|<nil>|[]string"],
  ["{{print 1 2 \"a\" 3 \"b\" \"c\" 4 .B .L}}", "1 2a3bc4 true [x y]"],
  ["{{println}}", "\n"],
  ["{{print}}", ""],
  ["{{printf \"%5t|%-6v|\" .B .B}}", " true|true  |"],
  ["{{printf \"%08.3f|%-8.3f|%+08d\" -3.14159 -3.14159 42}}", "-003.142|-3.142  |+0000042"],
  ["{{printf \"%.3s\" \"😀😀😀😀\"}} {{printf \"%5s|\" \"😀\"}}", "😀😀😀     😀|"],
  ["{{printf \"%v %v\" .Nested.A .Nested.A.B.C}}", "map[B:map[C:deep]] deep"],
  ["{{html .Q}} {{js .Q}} {{urlquery .Q}}", "a&#34;b\\c\n\t\u0001é😀 a\\\"b\\\\c\\u000A\\u0009\\u0001é😀 a%22b%5Cc%0A%09%01%C3%A9%F0%9F%98%80"],
  ["{{html 1 \"<\" 2}} {{urlquery \"a\" 1}}", "1&lt;2 a1"],
  ["{{len .Q}} {{len .S}} {{index .S 1}} {{slice .S 1 3}}", "14 6 195 é"],
  ["{{title \"hello wORLD x-y z_z é-é 1a\"}} {{upper .S}} {{lower \"ÀB\"}}", "Hello WORLD X-Y Z_z É-É 1a HÉLLO àb"],
  ["{{split \"a b c\" \" \"}} {{split \"abc\" \"\"}} {{join (split \"a,b\" \",\") \"-\"}}", "[a b c] [a b c] a-b"],
  ["{{eq nil nil}}", "true"],
  ["{{ne .N 1}} {{le \"a\" \"b\"}} {{gt 2 1}} {{ge 1 1}}", "true true true true"],
  ["{{and}}", err("template: :1:2: executing \"\" at <and>: wrong number of args for and: want at least 1 got 0")],
  ["{{not 1 2}}", err("template: :1:2: executing \"\" at <not>: wrong number of args for not: want 1 got 2")],
  ["{{index .Arr 1 0}} {{index .M \"k\"}} {{index .Nested \"A\" \"B\" \"C\"}}", "3 v deep"],
  ["{{slice .L}} {{slice .L 1 1}} {{slice .L 0 1 2}} {{slice .S 2 1}}", err("template: :1:51: executing \"\" at <slice .S 2 1>: error calling slice: invalid slice index: 2 > 1")],
  ["{{range $i, $e := .L}}{{$i}}{{$e}}{{else}}none{{end}}", "0x1y"],
  ["{{range $e := .M}}{{$e}}{{end}} {{range $k, $v := .M}}{{$k}}{{$v}}{{end}}", "bv abkv"],
  ["{{range .E}}x{{end}}", err("template: :1:8: executing \"\" at <.E>: range can't iterate over ")],
  ["{{if .N}}{{$x := 1}}{{end}}{{$x}}", err("template: :1: undefined variable \"$x\"")],
  ["{{$x := 1}}{{$x := 2}}{{$x}}", "2"],
  ["{{$x = 1}}", err("template: :1:7: executing \"\" at <1>: undefined variable: $x")],
  ["{{if 1}}a{{else if 2}}b{{else}}c{{end}}{{if 0}}a{{else if 2}}b{{else}}c{{end}}{{if 0}}a{{else if 0}}b{{else}}c{{end}}", "abc"],
  ["{{if 1}}{{end}}{{if (1)}}x{{end}}", "x"],
  ["{{ .S | len | printf \"%d\" | printf \"[%s]\" }}", "[6]"],
  ["{{(printf \"%s\" .S) | upper}}", "HÉLLO"],
  ["{{.Nested.A.B.C | upper | lower | printf \"%s!\"}}", "deep!"],
  ["{{ .S }}{{ \"\\u00e9\" }}{{ '\\n' }}{{ '\\'' }}{{ \"\\101\" }}", "hélloé1039A"],
  ["{{\"\\q\"}}", err("template: :1: invalid syntax")],
  ["{{'ab'}}", err("template: :1: malformed character constant: 'ab'")],
  ["{{0x1p4}} {{0b101}} {{0o17}} {{017}} {{1e-3}} {{.5}} {{-.5}} {{+5}}", "16 5 15 15 0.001 0.5 -0.5 5"],
  ["{{- 1 -}} {{- 2 -}}", "12"],
  ["x {{- 3}} y", "x3 y"],
  ["x {{3 -}} y", "x 3y"],
  ["x {{-3}} y", "x -3 y"],
  ["{{/**/}}a{{- /* x */}}", "a"],
  ["{{/* x */ -}}   b", "b"],
  ["{{$.N}}", "42"],
  ["{{$.Nested.A.B}}", "map[C:deep]"],
  ["{{.M.k.x}}", err("template: :1:4: executing \"\" at <.M.k.x>: can't evaluate field x in type string")],
  ["{{. .}}", err("template: :1:2: executing \"\" at <.>: can't give argument to non-function .")],
  ["{{3 3}}", err("template: :1:2: executing \"\" at <3>: can't give argument to non-function 3")],
  ["{{\"a\" | printf}}", "a"],
  ["{{.N | .N}}", err("template: :1:7: executing \"\" at <.N>: N is not a method but has arguments")],
  ["{{printf \"%d\" | len}}", "12"],
  ["{{(1) 2}}", err("template: :1:2: executing \"\" at <(1) 2>: can't give argument to non-function 1")],
  ["{{range .L}}{{break}}{{end}}{{range .L}}{{.}}{{continue}}x{{end}}", "xy"],
  ["{{range .L}}{{break 1}}{{end}}", err("template: :1: unexpected \"1\" in {{break}}")],
  ["{{continue}}", err("template: :1: {{continue}} outside {{range}}")],
  ["{{if true}}{{break}}{{end}}", err("template: :1: {{break}} outside {{range}}")],
  ["{{with .Missing}}x{{else}}y{{end}}", "y"],
  ["{{range .Missing}}x{{else}}y{{end}}", "y"],
  ["{{template \"t\"}}{{define \"t\"}}T{{end}}", "T"],
  ["{{define \"t\"}}T{{.}}{{end}}{{template \"t\" 5}}{{template \"t\" .N | printf \"%d\"}}", "T5T42"],
  ["{{block \"b\" .S}}{{.}}{{end}}", "héllo"],
  ["{{define \"x\"}}{{$}}{{end}}{{template \"x\" 7}}", "7"],
  ["{{else}}", err("template: :1: unexpected {{else}}")],
  ["{{end}}x", err("template: :1: unexpected {{end}}")],
  ["{{if true}}", err("template: :1: unexpected EOF")],
  ["{{if true}}{{else}}{{else}}{{end}}", err("template: :1: expected end; found {{else}}")],
  ["{{range .L}}{{else}}{{else}}{{end}}", err("template: :1: expected end; found {{else}}")],
  ["{{with}}{{end}}", err("template: :1: missing value for with")],
  ["{{range $i, $j, $k := .L}}{{end}}", err("template: :1: too many declarations in range")],
  ["{{range $i, 3}}{{end}}", err("template: :1: range can only initialize variables")],
  ["{{$a, $b := 1}}", err("template: :1: too many declarations in command")],
  ["{{.S | 1}}", err("template: :1: non executable command in pipeline stage 2")],
  ["{{.S | nil}}", err("template: :1: non executable command in pipeline stage 2")],
  ["{{nil | printf}}", err("template: :1:2: executing \"\" at <nil>: nil is not a command")],
  ["{{nil}}", err("template: :1:2: executing \"\" at <nil>: nil is not a command")],
  ["{{true.X}}", err("template: :1: unexpected . after term \"true\"")],
  ["{{$x.Y}}", err("template: :1: undefined variable \"$x\"")],
  ["{{.X .Y | printf}}", err("template: :1:2: executing \"\" at <.X>: X is not a method but has arguments")],
  ["{{len}}", err("template: :1:2: executing \"\" at <len>: wrong number of args for len: want 1 got 0")],
  ["{{index}}", err("template: :1:2: executing \"\" at <index>: wrong number of args for index: want at least 1 got 0")],
  ["{{printf 1}}", err("template: :1:9: executing \"\" at <1>: expected string; found 1")],
  ["{{printf \"%d\" \"a\" | printf \"%s\"}}", "%!d(string=a)"],
  ["{{\"unterminated", err("template: :1: unterminated quoted string")],
  ["{{`raw", err("template: :1: unterminated raw quoted string")],
  ["multi`}}", "multi`}}"],
  ["{{'a}}", err("template: :1: unterminated character constant")],
  ["{{.S}} {{.S} }", err("template: :1: bad character U+007D '}'")],
  ["{{$x := 1}}{{range .L}}{{$x = .}}{{end}}{{$x}}", "y"],
  ["{{range $x := .L}}{{$x}}{{end}}", "xy"],
  ["{{with $x := 5}}{{$x}}{{end}}{{$x}}", err("template: :1: undefined variable \"$x\"")],
]

describe('Go templates, second set, compared with what Go prints', () => {
  it.each(GO_CASES_2)('%j', (template, expected) => {
    expect(run(template, DATA2)).toEqual(expected)
  })
})

/** Third set: spacing, trim markers, delimiters inside strings, comments (checked against Go). */
const GO_CASES_3: [string, string | {error: string}][] = [
  ["{{print \"}}\"}}", "}}"],
  ["{{`}}{{`}}", "}}{{"],
  ["{{/* }} */}}x", "x"],
  ["{{- /* a */}} x", " x"],
  ["a {{-  /* a */}}", err("template: :1: unexpected \"/\" in command")],
  ["{{\"a\"}}{{- \"b\" -}} {{\"c\"}}", "abc"],
  [" {{- \"x\" }} \n ", "x \n "],
  ["a\r\n{{- \"b\"}}", "ab"],
  ["{{ .A}}{{.A }}", "aaaa"],
  ["{{.A|printf \"%s\"}}", "aa"],
  ["{{.A| printf \"%s\" |printf \"%s\"}}", "aa"],
  ["{{if .A -}} x {{- end}}", "x"],
  ["{{range $i,$v:=.L}}{{$i}}{{end}}", "01"],
  ["{{$x:=1}}{{$x}}", "1"],
  ["{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"],
  ["{{(.A)}}", "aa"],
  ["{{ ( .A ) }}", "aa"],
  ["{{(.M).k}}", "v"],
  ["{{(index .L 0)}}", "p"],
  ["{{with .M}}{{.k}}{{end}}", "v"],
  ["{{.M.k}}{{.M.k2}}", "v<no value>"],
  ["{{index .M \"k\" | len}}", "1"],
  ["{{ len .L | printf \"%d items\" }}", "2 items"],
  ["{{\"\\\"quoted\\\"\"}}", "\"quoted\""],
  ["{{'\\x41'}}{{'\\u00e9'}}", "65233"],
  ["{{\"tab\\there\"}}", "tab\there"],
  ["{{printf \"%s\" `a\\nb`}}", "a\\nb"],
  ["{{.L | join \",\"}}", err("template: :1:12: executing \"\" at <\",\">: can't handle \",\" for arg of type []string")],
  ["{{.L | len}}", "2"],
  ["{{$l := .L}}{{range $l}}{{.}}{{end}}", "pq"],
  ["{{range .L}}{{$.A}}{{end}}", "aaaa"],
  ["{{range $i, $_ := .L}}{{$i}}{{end}}", "01"],
  ["{{$_x1 := 3}}{{$_x1}}", "3"],
]

describe('Go templates, lexing details, compared with what Go prints', () => {
  it.each(GO_CASES_3)('%j', (template, expected) => {
    expect(run(template, {A: 'aa', L: ['p', 'q'], M: {k: 'v'}})).toEqual(expected)
  })
})

describe('deliberate differences from Go on plain JS data', () => {
  it("prints null as <nil> (a nil pointer in docker's typed structs), a missing key as <no value>", () => {
    expect(run('{{.State.Health}}|{{.Nope}}', DATA)).toBe('<nil>|<no value>')
  })
  it('names the JS type in errors (Go says interface {} for raw JSON data)', () => {
    expect(run('{{.Names.Foo}}', DATA)).toEqual(err('template: :1:8: executing "" at <.Names.Foo>: can\'t evaluate field Foo in type string'))
  })
  it('has one number type: an integral float prints as an int, an int takes float verbs', () => {
    expect(run('{{1e6}} {{printf "%.1f|%v|%g" 3 1000000.0 1000000.0}}', DATA)).toBe('1000000 3.0|1000000|1e+06')
    expect(run('{{eq 1 1.0}}', DATA)).toBe('true')
  })
  it('truncates by characters, not bytes (Go can cut a UTF-8 sequence in half)', () => {
    expect(run('{{truncate "héllo" 2}}', DATA)).toBe('hé')
  })
  it('ranges over an integer as Go >= 1.22 does', () => {
    expect(run('{{range $i := 3}}{{$i}}{{end}}', DATA)).toBe('012')
  })
  it('says len of nil pointer for a missing value', () => {
    expect(run('{{len .Nope}}', DATA)).toEqual(err('template: :1:2: executing "" at <len .Nope>: error calling len: len of nil pointer'))
  })
})

/** A ps row the way a command would write one: getters, a method with arguments, #private state. */
class ContainerRow {
  readonly #labels: Record<string, string>
  constructor(
    readonly ID: string,
    readonly Image: string,
    labels: Record<string, string>,
  ) {
    this.#labels = labels
  }
  get Names(): string {
    return 'web'
  }
  get Labels(): string {
    return Object.entries(this.#labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')
  }
  Label(name: string): string {
    return this.#labels[name] ?? ''
  }
}

describe('structs: class instances and goStruct() objects', () => {
  const row = new ContainerRow('abc123', 'alpine', {'com.example': 'yes'})
  it('reads fields and getters, calls methods with arguments', () => {
    expect(run('{{.ID}} {{.Names}} {{.Label "com.example"}}|{{.Label "nope"}}|{{.Labels}}', row)).toBe('abc123 web yes||com.example=yes')
  })
  it('passes a piped value as the last argument of a method', () => {
    expect(run('{{"com.example" | .Label}}', row)).toBe('yes')
  })
  it('refuses an unknown field with Go\'s message, naming the class', () => {
    expect(run('{{.Nope}}', row)).toEqual(err('template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type ContainerRow'))
    expect(run('{{.constructor}}', row)).toEqual(err('template: :1:2: executing "" at <.constructor>: can\'t evaluate field constructor in type ContainerRow'))
    expect(run('{{.toString}}', row)).toEqual(err('template: :1:2: executing "" at <.toString>: can\'t evaluate field toString in type ContainerRow'))
  })
  it('refuses arguments to a field that is not a method', () => {
    expect(run('{{.ID 1}}', row)).toEqual(err('template: :1:2: executing "" at <.ID>: ID has arguments but cannot be invoked as function'))
  })
  it('marks plain objects as structs with goStruct()', () => {
    const s = goStruct({Status: 'running', Pid: 42}, 'State')
    expect(run('{{.Status}} {{.Pid}} {{.}} {{printf "%+v" .}}', s)).toBe('running 42 {running 42} {Status:running Pid:42}')
    expect(run('{{.Nope}}', s)).toEqual(err('template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type State'))
  })
  it('prints a struct\'s String() method, as fmt does for a Stringer', () => {
    const v = goStruct({Name: 'x', String: () => 'stringer!'})
    expect(run('{{.}} {{printf "%s|%v" . .}}', v)).toBe('stringer! stringer!|stringer!')
  })
  it('encodes structs with json in field order (toJSON when a class has one), maps with sorted keys', () => {
    expect(run('{{json .}}', goStruct({Z: 1, A: {y: 1, b: 2}}))).toBe('{"Z":1,"A":{"b":2,"y":1}}')
    expect(run('{{json .}}', row)).toBe('{"ID":"abc123","Image":"alpine","Names":"web","Labels":"com.example=yes"}')
    const withToJson = Object.assign(new ContainerRow('a', 'b', {}), {toJSON: () => ({Names: 'web', ID: 'a'})})
    expect(run('{{json .}}', withToJson)).toBe('{"ID":"a","Names":"web"}')
  })
  it('prints a Date as Go prints a time.Time, and encodes it as RFC 3339', () => {
    const d = new Date('2024-01-01T10:00:00.500Z')
    expect(run('{{.}} {{json .}}', d)).toBe('2024-01-01 10:00:00.5 +0000 UTC "2024-01-01T10:00:00.5Z"')
  })
  it('calls function-valued map entries like methods', () => {
    expect(run('{{.Greet "you"}}', {Greet: (who: string) => `hi ${who}`})).toBe('hi you')
  })
  it('evaluates a nil pointer field as Go does', () => {
    expect(run('{{.Health.Status}}', goStruct({Health: null}))).toEqual(err('template: :1:9: executing "" at <.Health.Status>: nil pointer evaluating interface {}.Status'))
  })
})

describe('options and errors', () => {
  it('missingkey=error stops at a missing map key', () => {
    const t = GoTemplate.parse('{{.A.B}}', {missingKey: 'error'})
    expect(() => t.execute({A: {}})).toThrow('template: :1:4: executing "" at <.A.B>: map has no entry for key "B"')
    expect(() => t.execute({})).toThrow('template: :1:4: executing "" at <.A.B>: map has no entry for key "A"')
    expect(t.execute({A: {B: 1}})).toBe('1')
  })
  it('takes extra functions', () => {
    const t = GoTemplate.parse('{{shout .}} {{"x" | shout}}', {funcs: {shout: (s: unknown) => `${String(s).toUpperCase()}!`}})
    expect(t.execute('hey')).toBe('HEY! X!')
  })
  it('throws a TemplateError, a UsageError with exit code 125', () => {
    let caught: unknown
    try {
      GoTemplate.parse('{{.Names')
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(TemplateError)
    expect(caught).toBeInstanceOf(UsageError)
    expect((caught as TemplateError).exitCode).toBe(125)
    expect((caught as TemplateError).message).toBe('template: :1: unclosed action')
  })
  it('stops runaway template recursion with an error, not a crash', () => {
    expect(run('{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}', 1)).toEqual(
      err('template: :1:25: executing "" at <{{template "a" .}}>: exceeded maximum template depth (1000)'),
    )
  })
  it('keeps the text around trim markers and comments exactly as Go does', () => {
    expect(run('a\n  {{- /* c */ -}}\n  b {{- "c" }}\n{{"d" -}}\n\te', {})).toBe('abc\nde')
    expect(run('{{- "x" -}}', {})).toBe('x')
    expect(run('{{-3}} {{ -3 }}', {})).toBe('-3 -3')
  })
})
