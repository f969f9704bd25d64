//! Tables people download (CSV and Excel): one writer for each format, and one escaper that
//! every text cell passes through, so a name like `=HYPERLINK(…)` is shown, never run.

use std::borrow::Cow;

use rust_xlsxwriter::{Format, Workbook};

use crate::error::{ApiError, ApiResult};

/// One cell of a downloaded table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// A score or rate shown with two decimals ("66.50").
    Points(f64),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<f64> for Cell {
    fn from(n: f64) -> Self {
        Cell::Number(n)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Empty, Into::into)
    }
}

/// Text a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return before one) gets a leading apostrophe, the spreadsheet's own "this is text" mark.
pub fn safe_cell(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => safe_cell(t).into_owned(),
        Cell::Number(n) => n.to_string(),
        Cell::Points(n) => format!("{n:.2}"),
        Cell::Empty => String::new(),
    }
}

/// CSV in UTF-8 with a byte-order mark, so Excel shows the Chinese right.
pub fn csv(headers: &[&str], rows: &[Vec<Cell>]) -> ApiResult<Vec<u8>> {
    let failed = |e: csv::Error| ApiError::Internal(anyhow::anyhow!("writing CSV: {e}"));
    let mut out = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    out.write_record(headers.iter().map(|h| safe_cell(h).into_owned()))
        .map_err(failed)?;
    for row in rows {
        out.write_record(row.iter().map(cell_text))
            .map_err(failed)?;
    }
    out.into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing CSV: {e}")))
}

/// An Excel workbook with one sheet: a bold header row, then the rows; numbers stay numbers.
pub fn xlsx(sheet: &str, headers: &[&str], rows: &[Vec<Cell>]) -> ApiResult<Vec<u8>> {
    let failed = |e: rust_xlsxwriter::XlsxError| {
        ApiError::Internal(anyhow::anyhow!("writing a spreadsheet: {e}"))
    };
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let two_decimals = Format::new().set_num_format("0.00");
    let page = book.add_worksheet();
    page.set_name(sheet).map_err(failed)?;
    for (col, header) in headers.iter().enumerate() {
        let col = u16::try_from(col)
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("too many columns")))?;
        page.write_string_with_format(0, col, safe_cell(header), &bold)
            .map_err(failed)?;
        page.set_column_width(col, 14).map_err(failed)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1)
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("too many rows")))?;
        for (col, cell) in row.iter().enumerate() {
            let col = u16::try_from(col)
                .map_err(|_| ApiError::Internal(anyhow::anyhow!("too many columns")))?;
            match cell {
                // Written as strings, never as formulas; the apostrophe keeps what a person
                // reads the same when the file is saved as CSV again.
                Cell::Text(t) => page.write_string(r, col, safe_cell(t)).map(|_| ()),
                Cell::Number(n) => page.write_number(r, col, *n).map(|_| ()),
                Cell::Points(n) => page
                    .write_number_with_format(r, col, *n, &two_decimals)
                    .map(|_| ()),
                Cell::Empty => Ok(()),
            }
            .map_err(failed)?;
        }
    }
    book.save_to_buffer().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_plain_text_is_left_alone() {
        for risky in ["=1+1", "+86 138", "-5", "@SUM(A1)", "\t=x", "\r=x"] {
            assert!(safe_cell(risky).starts_with('\''), "{risky:?}");
        }
        for plain in ["王秀英", "138 0000 0000", "MQ-20261202-0001", "", "5-3"] {
            assert_eq!(safe_cell(plain), plain);
        }
    }

    #[test]
    fn csv_has_a_bom_and_escaped_cells() {
        let rows = vec![vec![
            Cell::from("=HYPERLINK(\"x\")"),
            Cell::Number(2.5),
            Cell::Empty,
            Cell::Points(-2.0),
        ]];
        let out = csv(&["姓名", "分数", "备注", "加减分"], &rows).unwrap();
        assert_eq!(&out[..3], &[0xEF, 0xBB, 0xBF]);
        let text = String::from_utf8(out[3..].to_vec()).unwrap();
        assert_eq!(
            text,
            "姓名,分数,备注,加减分\n\"'=HYPERLINK(\"\"x\"\")\",2.5,,-2.00\n"
        );
    }

    #[test]
    fn xlsx_is_a_zip_workbook() {
        let rows = vec![vec![Cell::from("溪口村"), Cell::Number(3.0)]];
        let out = xlsx("工单", &["村", "件数"], &rows).unwrap();
        assert_eq!(&out[..2], b"PK");
    }
}
