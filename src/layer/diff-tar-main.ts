/**
 * Runs INSIDE the user namespace (as its root: every file is readable and lstat shows the
 * container's own uids): `node dist/layer/diff-tar-main.js JOB-JSON` writes the tar of the job
 * (see diff-tar.ts) to stdout. On failure: exit 1 with one line on stderr.
 */
const {describeError} = await import('../errors.js')
const {writeDiffTar} = await import('./diff-tar.js')

try {
  const job = JSON.parse(process.argv[2] ?? '') as import('./diff-tar.js').DiffTarJob
  await writeDiffTar(job, process.stdout)
} catch (err) {
  process.stderr.write(`diff-tar: ${describeError(err).message}\n`)
  process.exit(1)
}
