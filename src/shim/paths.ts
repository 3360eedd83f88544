import {helperPath} from '../userns/helpers.js'

/** shim/build/ctr-ts-shim in the package (built by `npm run build`). */
export function shimPath(): string {
  return helperPath('ctr-ts-shim')
}

/** shim/build/ctr-ts-userns in the package. */
export function usernsPath(): string {
  return helperPath('ctr-ts-userns')
}
