#!/usr/bin/env node
// The floor of any unpacker whose file-system calls are Node's: re-creates the tree REF (a layer
// GNU tar unpacked) in DEST with the calls ctr-ts's unpacking thread makes per entry (mkdir;
// open O_CREAT|O_EXCL|O_NOFOLLOW, write, fchown, futimes, close; symlink, lchown, lutimes), from
// memory, one thread, synchronously: no gzip, no tar parsing, no hashing, no path checks. Prints
// the milliseconds of those calls alone (reading REF into memory is not counted).
//
//   unshare --map-auto --map-root-user -- node bench/lib/fs-floor.mjs REF DEST
import fs from 'node:fs'
import {join} from 'node:path'

const [ref, dest] = process.argv.slice(2)
if (!ref || !dest) {
  process.stderr.write('usage: fs-floor.mjs REF DEST\n')
  process.exit(2)
}
process.umask(0)

/** Entries of REF in walk order (a directory before what it holds), file contents in memory. */
const entries = []
const walk = (rel) => {
  for (const d of fs.readdirSync(join(ref, rel), {withFileTypes: true})) {
    const path = rel ? `${rel}/${d.name}` : d.name
    const st = fs.lstatSync(join(ref, path))
    const common = {path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime}
    if (d.isDirectory()) {
      entries.push({...common, type: 'dir'})
      walk(path)
    } else if (d.isSymbolicLink()) entries.push({...common, type: 'symlink', target: fs.readlinkSync(join(ref, path))})
    else if (d.isFile()) entries.push({...common, type: 'file', data: fs.readFileSync(join(ref, path))})
  }
}
walk('')

const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW
const started = performance.now()
for (const e of entries) {
  const to = join(dest, e.path)
  if (e.type === 'dir') {
    fs.mkdirSync(to, {mode: e.mode})
    if (e.uid !== 0 || e.gid !== 0) fs.chownSync(to, e.uid, e.gid)
  } else if (e.type === 'symlink') {
    fs.symlinkSync(e.target, to)
    if (e.uid !== 0 || e.gid !== 0) fs.lchownSync(to, e.uid, e.gid)
    fs.lutimesSync(to, e.mtime, e.mtime)
  } else {
    const fd = fs.openSync(to, CREATE, e.mode)
    let off = 0
    while (off < e.data.length) off += fs.writeSync(fd, e.data, off, e.data.length - off)
    if (e.uid !== 0 || e.gid !== 0) fs.fchownSync(fd, e.uid, e.gid)
    fs.futimesSync(fd, e.mtime, e.mtime)
    fs.closeSync(fd)
  }
}
// directories' times last, as an unpacker must (creating entries changes them)
for (const e of entries) if (e.type === 'dir') fs.utimesSync(join(dest, e.path), e.mtime, e.mtime)
process.stdout.write(`${(performance.now() - started).toFixed(1)}\n`)
