/**
 * The compose model: what the compose commands import. `loadProject` reads the files into a
 * normalized, validated ComposeProject; `composeFlags` are the shared project flags.
 */
export {composeFlags, composeLoadOptions, printComposeWarning} from './flags.js'
export {loadProject, serviceDependencies} from './load.js'
export {normalizeProjectName} from './project-name.js'
export {goDuration, projectDocument, projectJson, projectYaml} from './serialize.js'
export * from './types.js'
