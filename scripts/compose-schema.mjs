#!/usr/bin/env node
// Regenerates src/compose/model/schema/validator.generated.ts from compose-spec.json: ajv's
// standalone code for the schema, so a compose command checks a file without compiling the
// schema first (ajv's compile takes 0.4 to 1 s on a busy machine; loading this takes ~30 ms).
// Run after replacing compose-spec.json: `node scripts/compose-schema.mjs`. The unit test
// test/unit/compose-validate.test.ts fails when the generated file is out of date.
import {writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {generateValidator} from './compose-schema-code.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
writeFileSync(join(root, 'src/compose/model/schema/validator.generated.ts'), generateValidator(root))
