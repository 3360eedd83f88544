import {helperPath} from '../userns/helpers.js'

/** shim/build/ctr-ts-shim in the package (built by `npm run build`). */
export function shimPath(): string {
  return helperPath('ctr-ts-shim')
}
