/*!
Tables leaving the kit as files people open in Excel or WPS: a [`Sheet`] (a name, headers, rows
of text) written as CSV or XLSX.

CSV is UTF-8 with a byte-order mark (Excel otherwise reads Chinese as mojibake) and every cell
that a spreadsheet would take for a formula — starting with `=`, `+`, `-`, `@`, a tab or a
carriage return — is prefixed with `'`, so a citizen's words can never run as a formula on a
clerk's machine (CSV injection). XLSX is written by `rust_xlsxwriter` (cells as strings, so no
formula is ever interpreted), with a bold frozen header row and column widths fitted to the
content.
*/

use rust_xlsxwriter::{Format, Workbook};

use super::error::{Error, Result};

/// Most rows one export writes (a period too large for one file is narrowed first).
pub const MAX_ROWS: usize = 20_000;

/// A table to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// Sheet name (Excel allows 31 characters, no `[]:*?/\`).
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A cell as it must appear in a CSV file: formula triggers neutralized.
pub fn csv_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// The sheet as CSV bytes (BOM, CRLF, RFC 4180 quoting, neutralized cells).
pub fn to_csv(sheet: &Sheet) -> Result<Vec<u8>> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(sheet.headers.iter().map(|h| csv_safe(h)))
            .map_err(|e| Error::internal(format!("csv: {e}")))?;
        for row in &sheet.rows {
            w.write_record(row.iter().map(|c| csv_safe(c)))
                .map_err(|e| Error::internal(format!("csv: {e}")))?;
        }
        w.flush()
            .map_err(|e| Error::internal(format!("csv: {e}")))?;
    }
    Ok(out)
}

/// Display width of a cell for the column width: CJK characters count double.
fn width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// The sheet as an XLSX workbook.
pub fn to_xlsx(sheet: &Sheet) -> Result<Vec<u8>> {
    let err = |e: rust_xlsxwriter::XlsxError| Error::internal(format!("xlsx: {e}"));
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let name: String = sheet
        .name
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    ws.set_name(if name.is_empty() { "Sheet1" } else { &name })
        .map_err(err)?;
    let bold = Format::new().set_bold();
    for (c, h) in sheet.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)
            .map_err(err)?;
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, cell).map_err(err)?;
        }
    }
    for c in 0..sheet.headers.len() {
        let widest = std::iter::once(&sheet.headers[c])
            .chain(sheet.rows.iter().filter_map(|r| r.get(c)))
            .map(|s| width(s))
            .max()
            .unwrap_or(8);
        ws.set_column_width(c as u16, (widest.clamp(6, 60) + 2) as f64)
            .map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    book.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> Sheet {
        Sheet {
            name: "工单".into(),
            headers: vec!["工单号".into(), "诉求内容".into()],
            rows: vec![
                vec!["MS1".into(), "=HYPERLINK(\"http://x\")".into()],
                vec!["MS2".into(), "路灯坏了, 请修\n谢谢".into()],
                vec!["MS3".into(), "-1+1".into()],
            ],
        }
    }

    #[test]
    fn csv_has_a_bom_quotes_and_no_formulas() {
        let bytes = to_csv(&sheet()).unwrap();
        assert!(bytes.starts_with("\u{feff}".as_bytes()));
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains("\"路灯坏了, 请修\n谢谢\""), "{text}");
        assert!(text.contains("'-1+1"), "{text}");
        assert!(text.starts_with("\u{feff}工单号,诉求内容\r\n"));
    }

    #[test]
    fn xlsx_is_a_workbook() {
        let bytes = to_xlsx(&sheet()).unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"));
        // Read back with the kit's reader: the sheet, the header and the text as written.
        let rows = super::super::accounts::xlsx_sheet(&bytes).unwrap();
        assert_eq!(rows[0], ["工单号", "诉求内容"]);
        assert_eq!(
            rows[1][1], "=HYPERLINK(\"http://x\")",
            "a string, never a formula"
        );
        assert_eq!(rows.len(), 4);
    }
}
