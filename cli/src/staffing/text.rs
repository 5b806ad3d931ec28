/*!
The week and its roster as plain text for `m110 plan` (zh-CN with English labels): the 24 × 7
table of agents on the phones, the heads per shift and role, the FTE. Never wider than 120
columns (CJK characters count two).
*/

use std::fmt::Write as _;

use super::roster::{Roster, SHIFT_ROLES as ROLES, ShiftHeads, WeekPlan, windows_label};
use super::week::{DAY_NAMES, HOURS};

/// Display width in a terminal: CJK and full-width characters take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if (c as u32) >= 0x1100 && !matches!(c, '–' | '·' | '→' | '×') {
                2
            } else {
                1
            }
        })
        .sum()
}

/// `s` padded with spaces on the right to `w` display columns.
fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

/// Day headers as `一Mon`, right-aligned in `w` columns.
fn day_headers(o: &mut String, w: usize) {
    for (zh, en) in DAY_NAMES {
        let h = format!("{zh}{en}");
        let _ = write!(o, "{}{h}", " ".repeat(w.saturating_sub(width(&h))));
    }
}

/// One zh-CN line per shift for the handbook: "夜班 00–08：接线 3–3 人，派单/督办 1 人，值班长 1 人",
/// each role as the week's fewest–most heads on that shift; then the 回访 office shift.
pub fn shift_lines(r: &Roster) -> Vec<String> {
    let range = |v: Vec<u32>| {
        let (lo, hi) = (v.iter().min().copied(), v.iter().max().copied());
        match (lo, hi) {
            (Some(lo), Some(hi)) if lo != hi => format!("{lo}–{hi}"),
            (_, Some(hi)) => hi.to_string(),
            _ => "0".into(),
        }
    };
    let mut lines: Vec<String> = r
        .shifts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let of =
                |get: fn(&ShiftHeads) -> u32| range(r.heads.iter().map(|d| get(&d[i])).collect());
            format!(
                "{} {:02}–{:02}：接线 {} 人，派单/督办 {} 人，值班长 {} 人",
                s.name,
                s.start,
                (s.start + s.hours) % HOURS,
                of(|h| h.call_takers),
                of(|h| h.dispatchers),
                of(|h| h.supervisors)
            )
        })
        .collect();
    let weekdays: Vec<u32> = r
        .followup
        .heads
        .iter()
        .copied()
        .filter(|n| *n > 0)
        .collect();
    if !weekdays.is_empty() {
        lines.push(format!(
            "回访 {}（周一至周五）：{} 人",
            windows_label(&r.followup.hours_of_day),
            range(weekdays)
        ));
    }
    lines
}

/// The 24/7 block of the plan's text report.
pub fn week_text(p: &WeekPlan) -> String {
    let (w, r) = (&p.week, &p.roster);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n全天候排班 24/7 roster (每周 168 小时 Erlang C, docs/staffing.md)"
    );
    let _ = writeln!(
        o,
        "  每周来电 Calls/week: {:.0}    派单 Cases/week: {:.0}    回访 Follow-ups/week: {:.0} ({:.1} h)",
        w.weekly_calls, w.weekly_cases, w.weekly_followups, w.followup_hours_per_week
    );
    let (zh, en) = DAY_NAMES[w.peak.day];
    let _ = writeln!(
        o,
        "  本周最忙时段 Busiest hour: 周{zh} {en} {:02}:00, {:.1} 件 calls, {:.2} Erl → {} 坐席 agents",
        w.peak.hour, w.peak.calls, w.peak.traffic_erlangs, w.peak.agents
    );
    let _ = writeln!(
        o,
        "  每小时在线坐席 Agents on the phones (Erlang C), 时 hour × 星期 day:"
    );
    const COL: usize = 6;
    let _ = write!(o, "  {}", pad("时 h", 6));
    day_headers(&mut o, COL);
    o.push('\n');
    for h in 0..HOURS {
        let _ = write!(o, "  {}", pad(&format!("{h:02}"), 6));
        for day in &w.agents {
            let _ = write!(o, "{:>COL$}", day[h]);
        }
        o.push('\n');
    }

    let _ = writeln!(
        o,
        "\n  排班 Roster {} — 每班人数 heads per shift (含损耗 shrinkage included; 最少 minimums applied)",
        r.pattern
    );
    const SHIFT_W: usize = 22;
    const ROLE_W: usize = 20;
    let _ = write!(
        o,
        "  {}{}",
        pad("班次 Shift", SHIFT_W),
        pad("岗位 Role", ROLE_W)
    );
    day_headers(&mut o, COL);
    o.push('\n');
    for (i, s) in r.shifts.iter().enumerate() {
        for (k, (label, get)) in ROLES.iter().enumerate() {
            let shift = if k == 0 {
                format!(
                    "{} {} {:02}–{:02}",
                    s.name,
                    s.name_en,
                    s.start,
                    (s.start + s.hours) % HOURS
                )
            } else {
                String::new()
            };
            let _ = write!(o, "  {}{}", pad(&shift, SHIFT_W), pad(label, ROLE_W));
            for day in &r.heads {
                let _ = write!(o, "{:>COL$}", get(&day[i]));
            }
            o.push('\n');
        }
    }
    let _ = write!(
        o,
        "  {}{}",
        pad(
            &format!("回访 {}", windows_label(&r.followup.hours_of_day)),
            SHIFT_W
        ),
        pad("回访 Follow-up", ROLE_W)
    );
    for n in &r.followup.heads {
        let _ = write!(o, "{n:>COL$}");
    }
    o.push('\n');
    let (hrs, f) = (&r.paid_hours, &r.fte);
    let _ = writeln!(
        o,
        "\n  每周工时 Paid hours/week: {} h → 人力 FTE (40 h/week): {:.2}",
        hrs.total, f.total
    );
    let _ = writeln!(
        o,
        "    接线 Call-takers {:.2} · 回访 Follow-up {:.2} · 派单/督办 Dispatch {:.2} · 值班长 Supervisors {:.2}",
        f.call_takers, f.followup, f.dispatchers, f.supervisors
    );
    let _ = writeln!(
        o,
        "  对比 Other pattern {}: {} h, FTE {:.2}",
        p.other_pattern.pattern, p.other_pattern.paid_hours, p.other_pattern.fte
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_120_columns_and_lists_every_hour() {
        let i = crate::profile::compile::default_staffing();
        let p = super::super::roster::plan(650_000, &i).unwrap();
        let t = week_text(&p);
        for line in t.lines() {
            assert!(width(line) <= 120, "{} columns: {line}", width(line));
        }
        for h in 0..24 {
            assert!(t.contains(&format!("\n  {h:02}    ")), "hour {h}");
        }
        assert!(t.contains("夜班 Night 00–08"));
        assert!(t.contains("对比 Other pattern 2x12"));
    }

    #[test]
    fn rows_align() {
        let i = crate::profile::compile::default_staffing();
        let t = week_text(&super::super::roster::plan(650_000, &i).unwrap());
        // The agent table: header and 24 rows, all the same display width.
        let table: Vec<&str> = t
            .lines()
            .skip_while(|l| !l.starts_with("  时 h"))
            .take(25)
            .collect();
        assert_eq!(table.len(), 25);
        assert!(
            table.iter().all(|l| width(l) == width(table[0])),
            "{table:#?}"
        );
        let roster: Vec<&str> = t
            .lines()
            .skip_while(|l| !l.starts_with("  班次 Shift"))
            .take(2 + 3 * ROLES.len())
            .collect();
        assert!(
            roster.iter().all(|l| width(l) == width(roster[0])),
            "{roster:#?}"
        );
    }
}
