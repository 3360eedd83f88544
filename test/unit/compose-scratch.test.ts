import {test} from 'vitest'
import {loadProject} from '../../src/compose/model/load.js'
test('scratch', async () => {
  const p = await loadProject({workingDir: '/tmp/cm/My_Proj', onWarning: (m) => console.log('WARN', m)})
  console.log(JSON.stringify(p, null, 1))
})
