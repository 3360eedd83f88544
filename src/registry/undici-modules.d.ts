// Types for the two undici modules src/registry/undici-parts.ts loads by path (undici's own
// declarations describe only its index).
declare module 'undici/lib/dispatcher/agent.js' {
  import {Agent} from 'undici'
  export = Agent
}
declare module 'undici/lib/api/api-request.js' {
  import type {Dispatcher} from 'undici'
  function request(this: Dispatcher, opts: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>
  export = request
}
