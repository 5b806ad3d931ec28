/*!
The monthly report as an XLSX workbook (rust_xlsxwriter): one sheet per table with Chinese sheet
names, numbers as numbers (rates as percentages Excel can sum and chart), a bold frozen header,
and native Excel charts — the daily trend as a line, categories and hours as columns — that WPS
and Excel draw themselves. Text cells are written as strings, never formulas.
*/

use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, Worksheet, XlsxError};

use super::{HEADLINE_HEADERS, Report, headline};
use crate::engine::analytics::Row;
use crate::engine::error::{Error, Result};

/// Sheet names, in order (what a reader of the workbook finds).
pub const SHEETS: [&str; 11] = [
    "概览",
    "每日趋势",
    "诉求类别",
    "区域分布",
    "热点区域",
    "来电时段",
    "受理渠道",
    "来电人画像",
    "考核排名",
    "预警",
    "重点关注",
];

/// Headers of a breakdown sheet.
pub const BREAKDOWN_HEADERS: [&str; 10] = [
    "项目",
    "受理",
    "派单",
    "签收",
    "办结",
    "退单",
    "回访",
    "满意率",
    "按时签收率",
    "办结用时中位数(分钟)",
];

struct Formats {
    bold: Format,
    pct: Format,
}

fn headers(
    ws: &mut Worksheet,
    row: u32,
    hs: &[&str],
    f: &Formats,
) -> std::result::Result<(), XlsxError> {
    for (c, h) in hs.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, *h, &f.bold)?;
        ws.set_column_width(c as u16, if c == 0 { 28 } else { 14 })?;
    }
    Ok(())
}

fn opt_num(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    v: Option<f64>,
    f: Option<&Format>,
) -> std::result::Result<(), XlsxError> {
    match (v, f) {
        (Some(v), Some(f)) => ws.write_number_with_format(r, c, v, f).map(|_| ()),
        (Some(v), None) => ws.write_number(r, c, v).map(|_| ()),
        (None, _) => ws.write_string(r, c, "—").map(|_| ()),
    }
}

/// A breakdown table from `row0` (headers there); returns the last data row.
fn breakdown(
    ws: &mut Worksheet,
    row0: u32,
    rows: &[Row],
    f: &Formats,
) -> std::result::Result<u32, XlsxError> {
    headers(ws, row0, &BREAKDOWN_HEADERS, f)?;
    let mut r = row0;
    for row in rows {
        r += 1;
        ws.write_string(r, 0, &row.label)?;
        let Some(x) = &row.figures else {
            for c in 1..BREAKDOWN_HEADERS.len() as u16 {
                ws.write_string(r, c, "<5")?;
            }
            continue;
        };
        let c = &x.counts;
        for (col, v) in [
            c.received,
            c.dispatched,
            c.signed,
            c.closed,
            c.returned,
            c.followed_up,
        ]
        .into_iter()
        .enumerate()
        {
            ws.write_number(r, col as u16 + 1, v as f64)?;
        }
        opt_num(ws, r, 7, x.satisfaction_rate, Some(&f.pct))?;
        opt_num(ws, r, 8, x.sign_on_time_rate, Some(&f.pct))?;
        opt_num(ws, r, 9, x.close_minutes_median.map(|m| m as f64), None)?;
    }
    Ok(r)
}

fn column_chart(sheet: &str, title: &str, first: u32, last: u32) -> Chart {
    let mut chart = Chart::new(ChartType::Column);
    chart.title().set_name(title);
    chart
        .add_series()
        .set_name("受理")
        .set_categories((sheet, first, 0, last, 0))
        .set_values((sheet, first, 1, last, 1));
    chart.legend().set_hidden();
    chart
}

/// The report as XLSX bytes.
pub fn render(report: &Report) -> Result<Vec<u8>> {
    write(report).map_err(|e| Error::internal(format!("xlsx: {e}")))
}

fn write(r: &Report) -> std::result::Result<Vec<u8>, XlsxError> {
    let f = Formats {
        bold: Format::new().set_bold(),
        pct: Format::new().set_num_format("0.0%"),
    };
    let mut book = Workbook::new();

    // 概览: the headline with 环比 and 同比.
    let ws = book.add_worksheet();
    ws.set_name(SHEETS[0])?;
    ws.write_string_with_format(
        0,
        0,
        format!("{} 民生110 月度分析报告 · {}", r.region_name, r.month),
        &f.bold,
    )?;
    ws.write_string(
        1,
        0,
        format!("统计期间 {} 至 {}，生成于 {}", r.from, r.to, r.generated_at),
    )?;
    headers(ws, 3, &HEADLINE_HEADERS, &f)?;
    for (i, line) in headline(&r.summary).iter().enumerate() {
        for (c, v) in line.iter().enumerate() {
            ws.write_string(4 + i as u32, c as u16, v)?;
        }
    }
    // The raw counts as numbers, for formulas of the reader's own.
    let p = &r.summary.period.counts;
    let base = 4 + headline(&r.summary).len() as u32 + 1;
    headers(ws, base, &["计数", "本月"], &f)?;
    for (i, (name, v)) in [
        ("受理 received", p.received),
        ("派单 dispatched", p.dispatched),
        ("签收 signed", p.signed),
        ("答复 replied", p.replied),
        ("办结 closed", p.closed),
        ("退单 returned", p.returned),
        ("回访 followed_up", p.followed_up),
        ("满意 satisfied", p.satisfied),
        ("不满意 unsatisfied", p.unsatisfied),
        ("当场答复 answered", p.answered),
        ("就地解决 solved on the spot", p.solved_on_spot),
        ("转警 transferred", p.transferred),
    ]
    .into_iter()
    .enumerate()
    {
        ws.write_string(base + 1 + i as u32, 0, name)?;
        ws.write_number(base + 1 + i as u32, 1, v as f64)?;
    }
    ws.set_freeze_panes(4, 0)?;

    // 每日趋势 with a line chart.
    let ws = book.add_worksheet();
    ws.set_name(SHEETS[1])?;
    headers(ws, 0, &["日期", "受理", "办结"], &f)?;
    for (i, d) in r.daily.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &d.key)?;
        let c = d.figures.as_ref().map(|x| &x.counts);
        ws.write_number(row, 1, c.map(|c| c.received).unwrap_or(0) as f64)?;
        ws.write_number(row, 2, c.map(|c| c.closed).unwrap_or(0) as f64)?;
    }
    ws.set_freeze_panes(1, 0)?;
    if !r.daily.is_empty() {
        let last = r.daily.len() as u32;
        let mut chart = Chart::new(ChartType::Line);
        chart.title().set_name("每日受理与办结");
        for (col, name) in [(1u16, "受理"), (2, "办结")] {
            chart
                .add_series()
                .set_name(name)
                .set_categories((SHEETS[1], 1, 0, last, 0))
                .set_values((SHEETS[1], 1, col, last, col));
        }
        ws.insert_chart(1, 4, &chart)?;
    }

    // 诉求类别, 区域分布: breakdowns with a column chart.
    for (sheet, rows, title) in [
        (SHEETS[2], &r.categories, "诉求类别（前十）"),
        (SHEETS[3], &r.areas, "乡镇街道受理量"),
    ] {
        let ws = book.add_worksheet();
        ws.set_name(sheet)?;
        let last = breakdown(ws, 0, rows, &f)?;
        ws.set_freeze_panes(1, 0)?;
        if last > 0 {
            ws.insert_chart(last + 2, 0, &column_chart(sheet, title, 1, last))?;
        }
    }

    // 热点区域.
    let ws = book.add_worksheet();
    ws.set_name(SHEETS[4])?;
    headers(ws, 0, &["网格", "代码", "本月", "上月", "增减"], &f)?;
    for (i, h) in r.hot_spots.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &h.place)?;
        ws.write_string(row, 1, &h.code)?;
        ws.write_number(row, 2, h.received as f64)?;
        ws.write_number(row, 3, h.previous as f64)?;
        ws.write_number(row, 4, (h.received - h.previous) as f64)?;
    }

    // 来电时段: hours with a column chart, then the weekday × hour matrix.
    let ws = book.add_worksheet();
    ws.set_name(SHEETS[5])?;
    headers(ws, 0, &["时段", "受理"], &f)?;
    for (i, h) in r.hours.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &h.label)?;
        ws.write_number(
            row,
            1,
            h.figures.as_ref().map(|x| x.counts.received).unwrap_or(0) as f64,
        )?;
    }
    let last = r.hours.len() as u32;
    if last > 0 {
        ws.insert_chart(1, 3, &column_chart(SHEETS[5], "各时段受理量", 1, last))?;
    }
    let top = last + 3;
    ws.write_string_with_format(top, 0, "星期 × 时段", &f.bold)?;
    for h in 0..24u16 {
        ws.write_string_with_format(top, h + 1, format!("{h:02}"), &f.bold)?;
    }
    for (d, name) in ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
        .iter()
        .enumerate()
    {
        let row = top + 1 + d as u32;
        ws.write_string(row, 0, *name)?;
        for h in 0..24 {
            ws.write_number(row, h as u16 + 1, r.heatmap[d][h] as f64)?;
        }
    }

    // 受理渠道.
    let ws = book.add_worksheet();
    ws.set_name(SHEETS[6])?;
    breakdown(ws, 0, &r.channels, &f)?;

    // 来电人画像: three small tables, "<5" for withheld cells.
    let ws = book.add_worksheet();
    ws.set_name(SHEETS[7])?;
    ws.write_string(0, 0, "不足 5 件的单元格显示为 <5")?;
    let mut row = 2;
    for (title, rows) in [
        ("性别", &r.gender),
        ("年龄段", &r.age_band),
        ("职业", &r.occupation),
    ] {
        headers(ws, row, &[title, "受理"], &f)?;
        for x in rows.iter() {
            row += 1;
            ws.write_string(row, 0, &x.label)?;
            match &x.figures {
                Some(fig) => ws.write_number(row, 1, fig.counts.received as f64)?,
                None => ws.write_string(row, 1, "<5")?,
            };
        }
        row += 2;
    }

    // 考核排名, then the red and black lists.
    let ws = book.add_worksheet();
    ws.set_name(SHEETS[8])?;
    headers(ws, 0, &super::SCORE_HEADERS, &f)?;
    for (i, c) in r.scorecards.iter().enumerate() {
        let row = i as u32 + 1;
        opt_num(ws, row, 0, c.card.rank.map(f64::from), None)?;
        ws.write_string(row, 1, &c.unit_name)?;
        ws.write_number(row, 2, c.card.counts.assigned as f64)?;
        for (col, v) in [
            c.card.sign_on_time_rate,
            c.card.close_on_time_rate,
            c.card.return_rate,
            c.card.follow_up_rate,
            c.card.satisfaction_rate,
            c.card.redo_rate,
        ]
        .into_iter()
        .enumerate()
        {
            opt_num(ws, row, col as u16 + 3, v, Some(&f.pct))?;
        }
        opt_num(ws, row, 9, c.card.score, None)?;
    }
    ws.set_freeze_panes(1, 0)?;
    let mut row = r.scorecards.len() as u32 + 2;
    for (title, list) in [("红榜", &r.red), ("黑榜", &r.black)] {
        ws.write_string_with_format(row, 0, title, &f.bold)?;
        for c in list.iter() {
            row += 1;
            ws.write_string(row, 1, &c.unit_name)?;
            opt_num(ws, row, 9, c.card.score, None)?;
        }
        row += 2;
    }

    // 预警: the month's alerts.
    let ws = book.add_worksheet();
    ws.set_name(SHEETS[9])?;
    headers(
        ws,
        0,
        &[
            "预警",
            "方法",
            "类别",
            "区域",
            "开始",
            "结束",
            "实际",
            "预期",
            "重现间隔(天)",
            "状态",
        ],
        &f,
    )?;
    for (i, a) in r.alerts.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_number(row, 0, a.id as f64)?;
        ws.write_string(row, 1, &a.method)?;
        ws.write_string(row, 2, &a.category)?;
        ws.write_string(row, 3, &a.area)?;
        ws.write_string(row, 4, &a.start_day)?;
        ws.write_string(row, 5, &a.end_day)?;
        ws.write_number(row, 6, a.observed as f64)?;
        ws.write_number(row, 7, a.expected)?;
        opt_num(ws, row, 8, a.recurrence_days.map(f64::round), None)?;
        ws.write_string(row, 9, &a.state)?;
    }

    // 重点关注: returns by unit, then the overdue cases (not for the analyst).
    let ws = book.add_worksheet();
    ws.set_name(SHEETS[10])?;
    headers(ws, 0, &["单位", "退单", "退单率"], &f)?;
    let mut row = 0;
    for u in &r.units {
        let Some(x) = &u.figures else { continue };
        if x.counts.returned == 0 {
            continue;
        }
        row += 1;
        ws.write_string(row, 0, &u.label)?;
        ws.write_number(row, 1, x.counts.returned as f64)?;
        opt_num(ws, row, 2, x.return_rate, Some(&f.pct))?;
    }
    if r.with_cases {
        row += 2;
        headers(
            ws,
            row,
            &["工单", "类别", "承办单位", "超时环节", "超时(小时)"],
            &f,
        )?;
        for w in &r.watch {
            row += 1;
            ws.write_string(row, 0, &w.public_id)?;
            ws.write_string(row, 1, &w.category)?;
            ws.write_string(row, 2, &w.unit)?;
            ws.write_string(row, 3, w.deadline)?;
            ws.write_number(row, 4, w.hours_late as f64)?;
        }
    }
    book.save_to_buffer()
}
