/**
 * Go's text/tabwriter as docker's tables use it (`tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`):
 * tab-terminated cells are aligned in columns; a column block is a run of consecutive lines that
 * have a cell in that column, as wide as its widest cell plus the padding, and never narrower than
 * the minimum width; the last cell of a line is not part of a column and is never padded. Widths
 * count characters (Go counts runes).
 */

export interface TabwriterOptions {
  minWidth: number
  padding: number
}

/** docker's settings: minimum width 10, padding 3. */
export const DOCKER_TABWRITER: TabwriterOptions = {minWidth: 10, padding: 3}

export function tabwrite(text: string, options: TabwriterOptions = DOCKER_TABWRITER): string {
  const lines = text.split('\n').map((l) => l.split('\t'))
  const widths: number[] = []
  const out: string[] = []
  const width = (s: string) => [...s].length

  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i]!
      line.forEach((cell, j) => {
        out.push(j < widths.length ? cell + ' '.repeat(Math.max(0, widths[j]! - width(cell))) : cell)
      })
      if (i + 1 < lines.length) out.push('\n')
    }
  }

  const format = (line0: number, line1: number) => {
    const column = widths.length
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t]!.length - 1) continue
      // A cell in this column: the lines before it are done, a column block begins.
      writeLines(line0, t)
      line0 = t
      let w = options.minWidth
      for (; t < line1; t++) {
        const line = lines[t]!
        if (column >= line.length - 1) break
        w = Math.max(w, width(line[column]!) + options.padding)
      }
      widths.push(w)
      format(line0, t)
      widths.pop()
      line0 = t
    }
    writeLines(line0, line1)
  }

  format(0, lines.length)
  return out.join('')
}
