#!/usr/bin/env node
// Builds everything: TypeScript to dist/, the C programs in shim/ with the system compiler, and
// oclif.manifest.json from the compiled commands.
import {execFileSync} from 'node:child_process'
import {writeFileSync, existsSync, rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args) => execFileSync(cmd, args, {cwd: root, stdio: 'inherit'})

rmSync(join(root, 'dist'), {recursive: true, force: true})
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'])
if (existsSync(join(root, 'shim', 'Makefile'))) run('make', ['-s', '-C', 'shim'])

const {Plugin} = await import('@oclif/core')
const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true})
await plugin.load()
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n')
console.log(`built: ${Object.keys(plugin.manifest.commands).length} commands`)
