/** A small CSV reader for the export tests: quoted cells (with "" escapes and newlines) or bare ones, CRLF rows. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      let cell = "";
      i++;
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') {
          cell += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else cell += text[i++];
      }
      row.push(cell);
    } else {
      const end = text.slice(i).search(/[,\r]/);
      row.push(text.slice(i, end === -1 ? undefined : i + end));
      i = end === -1 ? text.length : i + end;
    }
    if (text[i] === ",") i++;
    else if (text.startsWith("\r\n", i)) {
      rows.push(row);
      row = [];
      i += 2;
    }
  }
  if (row.length > 0) rows.push(row);
  return rows;
}
