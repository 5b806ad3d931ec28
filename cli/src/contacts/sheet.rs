/*!
The contacts sheet's layout, shared by what writes it (`m110 init`, `m110 contacts export`) and
what reads it back (`m110 contacts import`).

Sheet `联系人`, one row per unit and contact: 单位ID, 单位名称, 类型 (grey: read-only, they come
from the profile), 服务电话 (the unit's hotline, on its first row), 联系人, 职务, 联系电话. A unit
without contacts still has its row for the hotline. Blank cells are values still to find
(`FILL_IN` in the profile). The phone columns are text (a leading 0 survives) and carry a data
validation whose message explains the accepted formats; a second sheet `说明` explains the rest.
*/

use m110_runtime::model::UnitKind;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format, FormatBorder, Formula, Workbook,
    Worksheet, XlsxError,
};

use crate::profile::raw::{FILL_IN, RawUnit};
use crate::profile::units_file::{CONTACT_COLUMNS, Column};

/// The data sheet's name.
pub const SHEET: &str = "联系人";
/// The instructions sheet's name.
pub const HELP_SHEET: &str = "说明";

/// Empty rows below the data that still carry the phone validation (room for added contacts).
const SPARE_ROWS: u32 = 500;

/// One row of the sheet, cells as text ("" = blank).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub hotline: String,
    pub contact_name: String,
    pub contact_role: String,
    pub contact_phone: String,
}

impl Row {
    /// The cells in [`CONTACT_COLUMNS`] order.
    pub fn cells(&self) -> [&str; 7] {
        [
            &self.id,
            &self.name,
            &self.kind,
            &self.hotline,
            &self.contact_name,
            &self.contact_role,
            &self.contact_phone,
        ]
    }
}

/// A profile value as the sheet shows it: blank for a missing value or the FILL_IN marker.
pub fn shown(v: Option<&str>) -> String {
    match v.map(str::trim) {
        Some(s) if !s.starts_with(FILL_IN) => s.to_string(),
        _ => String::new(),
    }
}

/// The kind as the sheet shows it: its Chinese name (the code when unknown).
pub fn kind_label(kind: &str) -> String {
    UnitKind::parse(kind.trim()).map_or_else(|| kind.to_string(), |k| k.name_zh().to_string())
}

/// The rows of a profile's units, in profile order: one per contact, or one for the hotline.
pub fn rows_of(units: &[RawUnit]) -> Vec<Row> {
    let mut out = Vec::new();
    for u in units {
        let base = Row {
            id: u.id.trim().to_string(),
            name: shown(Some(&u.name)),
            kind: kind_label(&u.kind),
            hotline: shown(u.hotline.as_deref()),
            ..Row::default()
        };
        if u.contacts.is_empty() {
            out.push(base);
            continue;
        }
        for (k, c) in u.contacts.iter().enumerate() {
            out.push(Row {
                // The hotline is the unit's, given once: on its first row.
                hotline: if k == 0 {
                    base.hotline.clone()
                } else {
                    String::new()
                },
                contact_name: shown(Some(&c.name)),
                contact_role: shown(c.role.as_deref()),
                contact_phone: shown(c.phone.as_deref()),
                ..base.clone()
            });
        }
    }
    out
}

/// Columns that are read-only (grey), text-formatted phones, and each column's width.
fn is_read_only(c: Column) -> bool {
    matches!(c.key, "id" | "name" | "kind")
}

fn is_phone_column(c: Column) -> bool {
    matches!(c.key, "hotline" | "contact_phone")
}

fn width(c: Column) -> f64 {
    match c.key {
        "id" => 24.0,
        "name" => 34.0,
        "kind" => 14.0,
        "hotline" | "contact_phone" => 18.0,
        _ => 14.0,
    }
}

const PHONE_RULE: &str = "手机：11位，如 13912345678\n固话：区号-号码，如 010-12345678、0371-2345678\n短号：3–6位，如 12345、95598\n留空表示暂不填写";

/// The Excel formula checking one phone cell, relative to `cell` (e.g. `D2`): a mobile number,
/// a landline with its area code and '-', or a 3–6 digit service number — the rules of
/// `profile::formats::is_phone`, as far as a spreadsheet formula can say them.
pub fn phone_formula(cell: &str) -> String {
    format!(
        "=OR(AND(LEN({c})=11,LEFT({c},1)=\"1\",MID({c},2,1)>=\"3\",ISNUMBER(-{c})),\
         AND(LEFT({c},1)=\"0\",LEN({c})>=11,LEN({c})<=13,ISNUMBER(FIND(\"-\",{c})),\
         ISNUMBER(-SUBSTITUTE({c},\"-\",\"\"))),\
         AND(LEN({c})>=3,LEN({c})<=6,ISNUMBER(-{c})))",
        c = cell
    )
}

/// The workbook: the data sheet and the instructions sheet.
pub fn write(rows: &[Row], region: &str) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    write_data(sheet, rows)?;
    let help = book.add_worksheet();
    write_help(help, region)?;
    book.save_to_buffer()
}

fn write_data(sheet: &mut Worksheet, rows: &[Row]) -> Result<(), XlsxError> {
    sheet.set_name(SHEET)?;
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin);
    let grey = Format::new()
        .set_background_color(Color::RGB(0xE7E6E6))
        .set_font_color(Color::RGB(0x595959))
        .set_num_format("@");
    let text = Format::new().set_num_format("@");
    for (i, c) in CONTACT_COLUMNS.iter().enumerate() {
        let col = i as u16;
        sheet.set_column_width(col, width(*c))?;
        // Text columns: what a clerk types stays as typed (0599-…, leading zeros).
        sheet.set_column_format(col, if is_read_only(*c) { &grey } else { &text })?;
        sheet.write_string_with_format(0, col, c.zh, &header)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (i, (c, v)) in CONTACT_COLUMNS.iter().zip(row.cells()).enumerate() {
            let f = if is_read_only(*c) { &grey } else { &text };
            sheet.write_string_with_format(r, i as u16, v, f)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    let last = rows.len() as u32 + SPARE_ROWS;
    sheet.autofilter(0, 0, rows.len() as u32, CONTACT_COLUMNS.len() as u16 - 1)?;
    for (i, c) in CONTACT_COLUMNS.iter().enumerate() {
        if !is_phone_column(*c) {
            continue;
        }
        let col = i as u16;
        let top = crate::profile::units_file::cell_ref(2, i);
        let dv = DataValidation::new()
            .allow_custom(Formula::new(phone_formula(&top)))
            .ignore_blank(true)
            .set_input_title(format!("{}格式", c.zh))?
            .set_input_message(PHONE_RULE)?
            .set_error_title("电话格式不正确")?
            .set_error_message(format!(
                "{PHONE_RULE}\n\nPhone: mobile 1xxxxxxxxxx, landline 0xxx-xxxxxxx or 3–6 digits."
            ))?
            .set_error_style(DataValidationErrorStyle::Stop);
        sheet.add_data_validation(1, col, last, col, &dv)?;
    }
    Ok(())
}

fn write_help(sheet: &mut Worksheet, region: &str) -> Result<(), XlsxError> {
    sheet.set_name(HELP_SHEET)?;
    sheet.set_column_width(0, 110)?;
    let bold = Format::new().set_bold();
    let lines = [
        format!("{region} 承办单位联系人表 / contacts of the handling units"),
        String::new(),
        "1. 在“联系人”表中填写空白单元格：服务电话（单位对外电话）、联系人、职务、联系电话。".into(),
        "2. 灰色列（单位ID、单位名称、类型）来自区域配置，请勿修改；单位名称请在配置文件中修改。".into(),
        "3. 一个单位有多位联系人：在该单位下方插入一行，填写相同的单位ID和联系人信息。".into(),
        "4. 电话格式：手机 13912345678；固话 010-12345678、0371-2345678（区号-号码）；短号 12345、95598。".into(),
        "5. 填好后导入：m110 contacts import 本文件.xlsx 配置.yaml（先用 --dry-run 预览）。".into(),
        "   已有不同的值不会被覆盖，除非加 --overwrite；有错误时列出每个单元格，配置文件不变。".into(),
        String::new(),
        "Fill the blank cells of sheet 联系人 (hotline, contact name, role, phone); grey columns come".into(),
        "from the profile. Add a contact by inserting a row with the same 单位ID. Then run".into(),
        "`m110 contacts import FILE.xlsx PROFILE.yaml` (--dry-run first). See docs/contacts.md.".into(),
    ];
    for (r, l) in lines.iter().enumerate() {
        if r == 0 {
            sheet.write_string_with_format(0, 0, l, &bold)?;
        } else {
            sheet.write_string(r as u32, 0, l)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::raw::RawContact;

    fn unit(id: &str, hotline: Option<&str>, contacts: Vec<RawContact>) -> RawUnit {
        RawUnit {
            id: id.into(),
            kind: "department".into(),
            name: format!("{id} name"),
            hotline: hotline.map(str::to_string),
            contacts,
            ..RawUnit::default()
        }
    }

    #[test]
    fn one_row_per_contact_or_per_unit_with_blanks_for_markers() {
        let c = |n: &str, p: Option<&str>| RawContact {
            name: n.into(),
            role: Some("联络员".into()),
            phone: p.map(str::to_string),
        };
        let rows = rows_of(&[
            unit("a", Some(FILL_IN), vec![c(FILL_IN, Some(FILL_IN))]),
            unit(
                "b",
                Some("12345"),
                vec![c("王芳", Some("13900000000")), c("李强", None)],
            ),
            unit("c", None, vec![]),
        ]);
        let cells: Vec<_> = rows.iter().map(|r| r.cells().map(str::to_string)).collect();
        assert_eq!(cells.len(), 4);
        assert_eq!(cells[0], ["a", "a name", "政府部门", "", "", "联络员", ""]);
        assert_eq!(cells[1][3..], ["12345", "王芳", "联络员", "13900000000"]);
        assert_eq!(cells[2][3..], ["", "李强", "联络员", ""]);
        assert_eq!(cells[3][..4], ["c", "c name", "政府部门", ""]);
    }

    #[test]
    fn workbook_is_written() {
        let bytes = write(&rows_of(&[unit("a", None, vec![])]), "邵武市").unwrap();
        assert!(bytes.starts_with(b"PK"));
        assert!(phone_formula("D2").starts_with("=OR(AND(LEN(D2)=11"));
    }
}
