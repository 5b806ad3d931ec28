//! The monthly report as Markdown (for a wiki, a mail, a commit of figures): the same sections
//! as the XLSX and HTML renderings, as tables.

use std::fmt::Write as _;

use super::{HEADLINE_HEADERS, Report, headline, minutes, pct};
use crate::engine::analytics::Row;

/// Markdown table cell: pipes and line breaks would end the cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn table(out: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", headers.join(" | "));
    let _ = writeln!(
        out,
        "|{}|",
        headers.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// Rows of a breakdown as (label, received, closed, satisfaction, close median).
fn figures_rows(rows: &[Row]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| match &r.figures {
            Some(f) => vec![
                r.label.clone(),
                f.counts.received.to_string(),
                f.counts.closed.to_string(),
                pct(f.satisfaction_rate),
                minutes(f.close_minutes_median),
            ],
            None => vec![
                r.label.clone(),
                "<5".into(),
                "<5".into(),
                "<5".into(),
                "<5".into(),
            ],
        })
        .collect()
}

const FIGURE_HEADERS: [&str; 5] = ["", "受理", "办结", "满意率", "办结用时中位数"];

fn profile_rows(rows: &[Row]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            vec![
                r.label.clone(),
                r.figures
                    .as_ref()
                    .map(|f| f.counts.received.to_string())
                    .unwrap_or_else(|| "<5".into()),
            ]
        })
        .collect()
}

/// The report as Markdown.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} 民生110 月度分析报告 · {}\n\n统计期间 {} 至 {}（按受理、派单等事件发生的北京时间计），生成于 {}。\n",
        r.region_name, r.month, r.from, r.to, r.generated_at
    );
    out.push_str("## 一、总体情况\n\n");
    let lines: Vec<Vec<String>> = headline(&r.summary)
        .into_iter()
        .map(|l| l.to_vec())
        .collect();
    table(&mut out, &HEADLINE_HEADERS, &lines);

    out.push_str("## 二、每日受理趋势\n\n");
    let daily: Vec<Vec<String>> = r
        .daily
        .iter()
        .map(|d| {
            let f = d.figures.as_ref();
            vec![
                d.key.clone(),
                f.map(|f| f.counts.received).unwrap_or(0).to_string(),
                f.map(|f| f.counts.closed).unwrap_or(0).to_string(),
            ]
        })
        .collect();
    table(&mut out, &["日期", "受理", "办结"], &daily);

    out.push_str("## 三、诉求类别（前十）\n\n");
    table(&mut out, &FIGURE_HEADERS, &figures_rows(&r.categories));
    out.push_str("## 四、区域分布（乡镇街道）\n\n");
    table(&mut out, &FIGURE_HEADERS, &figures_rows(&r.areas));
    out.push_str("## 五、热点区域\n\n");
    let hot: Vec<Vec<String>> = r
        .hot_spots
        .iter()
        .map(|h| {
            vec![
                h.place.clone(),
                h.received.to_string(),
                h.previous.to_string(),
                format!("{:+}", h.received - h.previous),
            ]
        })
        .collect();
    table(&mut out, &["网格", "本月", "上月", "增减"], &hot);

    out.push_str("## 六、来电时段\n\n");
    let hours: Vec<Vec<String>> = r
        .hours
        .iter()
        .map(|h| {
            vec![
                h.label.clone(),
                h.figures
                    .as_ref()
                    .map(|f| f.counts.received)
                    .unwrap_or(0)
                    .to_string(),
            ]
        })
        .collect();
    table(&mut out, &["时段", "受理"], &hours);

    out.push_str("## 七、受理渠道\n\n");
    table(&mut out, &FIGURE_HEADERS, &figures_rows(&r.channels));

    out.push_str("## 八、来电人画像\n\n不足 5 件的单元格显示为“<5”。\n\n");
    table(&mut out, &["性别", "受理"], &profile_rows(&r.gender));
    table(&mut out, &["年龄段", "受理"], &profile_rows(&r.age_band));
    table(&mut out, &["职业", "受理"], &profile_rows(&r.occupation));

    out.push_str("## 九、承办单位考核\n\n");
    let cards: Vec<Vec<String>> = r
        .scorecards
        .iter()
        .map(|c| {
            vec![
                c.card.rank.map(|n| n.to_string()).unwrap_or("—".into()),
                c.unit_name.clone(),
                c.card.counts.assigned.to_string(),
                pct(c.card.sign_on_time_rate),
                pct(c.card.close_on_time_rate),
                pct(c.card.return_rate),
                pct(c.card.follow_up_rate),
                pct(c.card.satisfaction_rate),
                pct(c.card.redo_rate),
                c.card
                    .score
                    .map(|s| format!("{s:.1}"))
                    .unwrap_or("—".into()),
            ]
        })
        .collect();
    table(&mut out, &super::SCORE_HEADERS, &cards);
    let names = |v: &[super::CardRow]| {
        if v.is_empty() {
            "—".to_string()
        } else {
            v.iter()
                .map(|c| format!("{}（{:.1}）", c.unit_name, c.card.score.unwrap_or(0.0)))
                .collect::<Vec<_>>()
                .join("、")
        }
    };
    let _ = writeln!(
        out,
        "**红榜**：{}\n\n**黑榜**：{}\n",
        names(&r.red),
        names(&r.black)
    );

    out.push_str("## 十、预警\n\n");
    let alerts: Vec<Vec<String>> = r
        .alerts
        .iter()
        .map(|a| {
            vec![
                format!("#{}", a.id),
                a.method.clone(),
                a.category.clone(),
                a.area.clone(),
                format!("{} – {}", a.start_day, a.end_day),
                a.observed.to_string(),
                format!("{:.1}", a.expected),
                super::recurrence(a.recurrence_days),
                a.state.clone(),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "预警",
            "方法",
            "类别",
            "区域",
            "时段",
            "实际",
            "预期",
            "重现间隔",
            "状态",
        ],
        &alerts,
    );

    out.push_str("## 十一、重点关注\n\n");
    let returned: Vec<Vec<String>> = r
        .units
        .iter()
        .filter_map(|u| {
            let f = u.figures.as_ref()?;
            (f.counts.returned > 0).then(|| {
                vec![
                    u.label.clone(),
                    f.counts.returned.to_string(),
                    pct(f.return_rate),
                ]
            })
        })
        .collect();
    table(&mut out, &["单位", "退单", "退单率"], &returned);
    if r.with_cases {
        let watch: Vec<Vec<String>> = r
            .watch
            .iter()
            .map(|w| {
                vec![
                    w.public_id.clone(),
                    w.category.clone(),
                    w.unit.clone(),
                    format!("{}超时 {} 小时", w.deadline, w.hours_late),
                ]
            })
            .collect();
        table(&mut out, &["工单", "类别", "承办单位", "超时"], &watch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_a_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        let mut out = String::new();
        table(&mut out, &["x", "y"], &[vec!["1".into(), "2".into()]]);
        assert_eq!(out, "| x | y |\n|---|---|\n| 1 | 2 |\n\n");
    }
}
