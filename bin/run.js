#!/usr/bin/env node
// Cache compiled code between runs: every ctr-ts command is a fresh short-lived process.
import module from 'node:module'

module.enableCompileCache?.()
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
