/*!
Analytics (数据分析): counts, rates and times for a period, filtered by category, area, unit and
channel, broken down by category, area (any grid tier), handling unit, channel, caller profile
and time (hour of day, weekday, day, ISO week, month), with the change on the previous period
(环比: the month before for a month, else as many days before) and on the same dates a year
earlier (同比). Every figure is a sum over
the write-time rollups (`store::rollups`), never a scan of the cases.

Aggregates only: no case content, location or caller data leaves here, and a caller-profile cell
of fewer than [`MIN_CELL`] cases is suppressed (shown as "<5"), so the analyst role may read it
all. The definitions (in `docs/analytics.md`):

- `sign_on_time_rate` = (signed − signed after the deadline) ÷ signed;
- `reply_on_time_rate` = (replied − replied after the close deadline, extensions counted) ÷
  replied;
- `follow_up_rate` = follow-ups ÷ replies; `satisfaction_rate` = satisfied and mostly satisfied
  ÷ follow-ups with an outcome; `return_rate` = returns ÷ dispatches; `redo_rate` = redos ÷
  follow-ups;
- median and 90th percentile of the time from dispatch to 签收 and from intake to 办结 (close),
  read at the resolution of the rollups' duration buckets (`store::rollups::BOUNDS_MIN`): the
  figure is the upper bound of the bucket the quantile falls in.
*/

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

use super::region::RegionIndex;
use crate::model::Channel;
use crate::store::rollups::{self, BOUNDS_MIN, Dim, RollupFilter, SumRow, bucket_bound};
use crate::store::{Store, StoreError};

/// Caller-profile cells with fewer cases than this are suppressed.
pub const MIN_CELL: i64 = 5;
/// Longest period one query covers (a year and a day).
pub const MAX_DAYS: i64 = 367;
const DAY_MS: i64 = 86_400_000;

/// What to count: days `[from, to)` (epoch ms of Asia/Shanghai midnights) and the filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub from: i64,
    pub to: i64,
    pub category: Option<String>,
    pub area: Option<String>,
    pub unit: Option<String>,
    pub channel: Option<String>,
}

/// A query parameter that is not acceptable: the field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
    }
}

/// The raw query parameters every analytics front-end accepts.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub from: Option<String>,
    pub to: Option<String>,
    /// `YYYY-MM`: the whole month (instead of from/to).
    pub month: Option<String>,
    pub category: Option<String>,
    pub area: Option<String>,
    pub unit: Option<String>,
    pub channel: Option<String>,
    /// Breakdown dimension (breakdown only).
    pub by: Option<String>,
    /// Grid tier of an area breakdown (1 = townships).
    pub tier: Option<u8>,
    /// `csv` or `xlsx` (exports).
    pub format: Option<String>,
}

fn some(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// `[start, end)` of a `YYYY-MM` month in Asia/Shanghai.
pub fn month_bounds(month: &str) -> Option<(i64, i64)> {
    let (y, m) = month.trim().split_once('-')?;
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let next = first.checked_add_months(Months::new(1))?;
    Some((
        crate::model::time::day_start_ms(&first.to_string())?,
        crate::model::time::day_start_ms(&next.to_string())?,
    ))
}

impl Params {
    /// Checks the parameters against the region; `default_month` when no period is given.
    pub fn query(&self, region: &RegionIndex, default_month: &str) -> Result<Query, Invalid> {
        let (from, to) = match (some(&self.month), some(&self.from), some(&self.to)) {
            (Some(m), None, None) => {
                month_bounds(&m).ok_or_else(|| invalid("month", "a month, YYYY-MM"))?
            }
            (Some(_), _, _) => return Err(invalid("month", "give a month or from/to, not both")),
            (None, None, None) => {
                month_bounds(default_month).ok_or_else(|| invalid("month", "a month, YYYY-MM"))?
            }
            (None, from, to) => {
                let day = |field: &'static str, v: Option<String>| {
                    let v = v.ok_or_else(|| invalid(field, "required: a date, YYYY-MM-DD"))?;
                    crate::model::time::day_start_ms(&v)
                        .ok_or_else(|| invalid(field, "a date, YYYY-MM-DD"))
                };
                let from = day("from", from)?;
                let to = day("to", to)? + DAY_MS;
                (from, to)
            }
        };
        if to <= from {
            return Err(invalid("to", "the period ends before it starts"));
        }
        if to - from > MAX_DAYS * DAY_MS {
            return Err(invalid("to", format!("at most {MAX_DAYS} days")));
        }
        let category = some(&self.category);
        if let Some(c) = &category
            && region.category(c).is_none()
        {
            return Err(invalid("category", format!("{c} is not a category")));
        }
        let area = some(&self.area);
        if let Some(a) = &area
            && region.grid(a).is_none()
        {
            return Err(invalid("area", format!("{a} is not a grid unit")));
        }
        let unit = some(&self.unit);
        if let Some(u) = &unit
            && region.unit(u).is_none()
        {
            return Err(invalid("unit", format!("{u} is not a handling unit")));
        }
        let channel = some(&self.channel);
        if let Some(c) = &channel
            && Channel::parse(c).is_none()
        {
            return Err(invalid("channel", "one of phone, web, grid, sms, open311"));
        }
        Ok(Query {
            from,
            to,
            category,
            area,
            unit,
            channel,
        })
    }

    /// The breakdown dimension.
    pub fn by(&self) -> Result<By, Invalid> {
        let by = some(&self.by).ok_or_else(|| invalid("by", "required"))?;
        By::parse(&by, self.tier.unwrap_or(1)).ok_or_else(|| {
            invalid(
                "by",
                "one of category, area, unit, channel, gender, age_band, occupation, hour, \
                 weekday, day, week, month",
            )
        })
    }
}

/// A breakdown dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Category,
    /// Grid units of one tier (1 = the top tier).
    Area(u8),
    Unit,
    Channel,
    Gender,
    AgeBand,
    Occupation,
    Hour,
    Weekday,
    Day,
    Week,
    Month,
}

impl By {
    pub fn parse(s: &str, tier: u8) -> Option<By> {
        Some(match s {
            "category" => By::Category,
            "area" => By::Area(tier.max(1)),
            "unit" => By::Unit,
            "channel" => By::Channel,
            "gender" => By::Gender,
            "age_band" => By::AgeBand,
            "occupation" => By::Occupation,
            "hour" => By::Hour,
            "weekday" => By::Weekday,
            "day" => By::Day,
            "week" => By::Week,
            "month" => By::Month,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            By::Category => "category",
            By::Area(_) => "area",
            By::Unit => "unit",
            By::Channel => "channel",
            By::Gender => "gender",
            By::AgeBand => "age_band",
            By::Occupation => "occupation",
            By::Hour => "hour",
            By::Weekday => "weekday",
            By::Day => "day",
            By::Week => "week",
            By::Month => "month",
        }
    }

    fn dim(self) -> Dim {
        match self {
            By::Category => Dim::Category,
            By::Area(_) => Dim::Grid,
            By::Unit => Dim::Unit,
            By::Channel => Dim::Channel,
            By::Gender => Dim::Gender,
            By::AgeBand => Dim::AgeBand,
            By::Occupation => Dim::Occupation,
            By::Hour => Dim::Hour,
            By::Weekday | By::Day | By::Week | By::Month => Dim::Day,
        }
    }

    /// Caller-profile dimensions: only `received` is counted, small cells are suppressed.
    pub fn is_profile(self) -> bool {
        matches!(self, By::Gender | By::AgeBand | By::Occupation)
    }
}

/// The counts of a cell and the duration histograms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub received: i64,
    pub dispatched: i64,
    pub signed: i64,
    pub sign_late: i64,
    pub replied: i64,
    pub reply_late: i64,
    pub returned: i64,
    pub closed: i64,
    pub answered: i64,
    /// 就地解决: grid workers' patrol reports settled on the spot (received and closed at once).
    pub solved_on_spot: i64,
    pub followed_up: i64,
    pub satisfied: i64,
    pub unsatisfied: i64,
    pub redone: i64,
    pub reopened: i64,
    pub transferred: i64,
    pub urged: i64,
    #[serde(skip)]
    pub sign_hist: Vec<i64>,
    #[serde(skip)]
    pub close_hist: Vec<i64>,
}

impl Counts {
    fn add(&mut self, metric: &str, bucket: i64, n: i64) {
        let hist = |h: &mut Vec<i64>| {
            if h.is_empty() {
                h.resize(BOUNDS_MIN.len() + 1, 0);
            }
            if let Some(v) = usize::try_from(bucket).ok().and_then(|i| h.get_mut(i)) {
                *v += n;
            }
        };
        match metric {
            "received" => self.received += n,
            "dispatched" => self.dispatched += n,
            "signed" => self.signed += n,
            "sign_late" => self.sign_late += n,
            "replied" => self.replied += n,
            "reply_late" => self.reply_late += n,
            "returned" => self.returned += n,
            "closed" => self.closed += n,
            "answered" => self.answered += n,
            "solved_on_spot" => self.solved_on_spot += n,
            "followed_up" => self.followed_up += n,
            "satisfied" => self.satisfied += n,
            "unsatisfied" => self.unsatisfied += n,
            "redone" => self.redone += n,
            "reopened" => self.reopened += n,
            "transferred" => self.transferred += n,
            "urged" => self.urged += n,
            "sign_time" => hist(&mut self.sign_hist),
            "close_time" => hist(&mut self.close_hist),
            _ => {}
        }
    }

    fn merge(&mut self, other: &Counts) {
        macro_rules! sum {
            ($($f:ident),*) => { $(self.$f += other.$f;)* };
        }
        sum!(
            received,
            dispatched,
            signed,
            sign_late,
            replied,
            reply_late,
            returned,
            closed,
            answered,
            solved_on_spot,
            followed_up,
            satisfied,
            unsatisfied,
            redone,
            reopened,
            transferred,
            urged
        );
        for (mine, theirs) in [
            (&mut self.sign_hist, &other.sign_hist),
            (&mut self.close_hist, &other.close_hist),
        ] {
            if mine.len() < theirs.len() {
                mine.resize(theirs.len(), 0);
            }
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
    }

    /// The figures of the cell: counts, rates, quantiles.
    pub fn figures(&self) -> Figures {
        let rate = |num: i64, den: i64| (den > 0).then(|| num as f64 / den as f64);
        Figures {
            counts: self.clone(),
            sign_on_time_rate: rate(self.signed - self.sign_late, self.signed),
            reply_on_time_rate: rate(self.replied - self.reply_late, self.replied),
            follow_up_rate: rate(self.followed_up, self.replied),
            satisfaction_rate: rate(self.satisfied, self.satisfied + self.unsatisfied),
            return_rate: rate(self.returned, self.dispatched),
            redo_rate: rate(self.redone, self.followed_up),
            sign_minutes_median: quantile(&self.sign_hist, 0.5),
            sign_minutes_p90: quantile(&self.sign_hist, 0.9),
            close_minutes_median: quantile(&self.close_hist, 0.5),
            close_minutes_p90: quantile(&self.close_hist, 0.9),
        }
    }
}

/// The `q` quantile of a bucket histogram: the upper bound (minutes) of the bucket it falls in;
/// `None` for an empty histogram or the open last bucket.
pub fn quantile(hist: &[i64], q: f64) -> Option<i64> {
    let total: i64 = hist.iter().sum();
    if total == 0 {
        return None;
    }
    // The smallest bucket whose cumulative count reaches q × total (rank ⌈q·n⌉, at least 1).
    let rank = ((q * total as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (i, n) in hist.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return bucket_bound(i as i64);
        }
    }
    None
}

/// A cell's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    #[serde(flatten)]
    pub counts: Counts,
    pub sign_on_time_rate: Option<f64>,
    pub reply_on_time_rate: Option<f64>,
    pub follow_up_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub return_rate: Option<f64>,
    pub redo_rate: Option<f64>,
    pub sign_minutes_median: Option<i64>,
    pub sign_minutes_p90: Option<i64>,
    pub close_minutes_median: Option<i64>,
    pub close_minutes_p90: Option<i64>,
}

/// The rollup filter of a query: days, and the category / area / unit / channel filters with
/// their descendants.
pub fn filter(region: &RegionIndex, q: &Query) -> RollupFilter {
    let (from_day, _) = rollups::day_hour(q.from);
    let (to_day, _) = rollups::day_hour(q.to);
    RollupFilter {
        from_day,
        to_day,
        categories: q.category.as_ref().map(|c| {
            region
                .categories
                .iter()
                .filter(|x| &x.code == c || category_within(region, &x.code, c))
                .map(|x| x.code.clone())
                .collect()
        }),
        grids: q
            .area
            .as_ref()
            .map(|a| region.grid_reach(std::slice::from_ref(a))),
        unit: q.unit.clone(),
        channel: q.channel.clone(),
        metrics: None,
    }
}

fn category_within(region: &RegionIndex, code: &str, ancestor: &str) -> bool {
    let mut at = region.category(code).and_then(|c| c.parent.clone());
    let mut depth = 0;
    while let Some(p) = at {
        if p == ancestor {
            return true;
        }
        depth += 1;
        if depth > 8 {
            return false;
        }
        at = region.category(&p).and_then(|c| c.parent.clone());
    }
    false
}

fn fold(rows: &[SumRow]) -> Counts {
    let mut c = Counts::default();
    for r in rows {
        c.add(&r.metric, r.bucket, r.n);
    }
    c
}

/// The totals of a query.
pub async fn totals(store: &Store, region: &RegionIndex, q: &Query) -> Result<Counts, StoreError> {
    Ok(fold(&store.rollup_sums(&filter(region, q), &[]).await?))
}

/// Where the period before `[from, to)` starts: whole calendar months compare with as many
/// months before (November with October, 31 days), any other period with the same number of
/// days just before it.
pub fn previous_start(from: i64, to: i64) -> i64 {
    let (a, b) = (
        crate::model::time::shanghai(from).date_naive(),
        crate::model::time::shanghai(to).date_naive(),
    );
    let months = (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32;
    if a.day() == 1 && b.day() == 1 && months > 0 {
        let start = a
            .checked_sub_months(Months::new(months as u32))
            .unwrap_or(a);
        if let Some(ms) = crate::model::time::day_start_ms(&start.to_string()) {
            return ms;
        }
    }
    from - (to - from)
}

/// The same dates a year earlier (29 February → 28 February).
fn year_earlier(ms: i64) -> i64 {
    let d = crate::model::time::shanghai(ms).date_naive();
    let back = d.checked_sub_months(Months::new(12)).unwrap_or(d);
    crate::model::time::day_start_ms(&back.to_string()).unwrap_or(ms)
}

/// A period's headline figures beside the previous period and the year before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub period: Figures,
    pub previous: Figures,
    pub year_ago: Figures,
    /// Change of `received` on the previous period (环比) and on the year before (同比), as a
    /// fraction (0.25 = +25 %); `None` when the base is 0.
    pub received_mom: Option<f64>,
    pub received_yoy: Option<f64>,
    pub closed_mom: Option<f64>,
    pub closed_yoy: Option<f64>,
}

fn change(now: i64, base: i64) -> Option<f64> {
    (base > 0).then(|| (now - base) as f64 / base as f64)
}

/// The headline of a query, with 环比 and 同比.
pub async fn summary(
    store: &Store,
    region: &RegionIndex,
    q: &Query,
) -> Result<Summary, StoreError> {
    let prev = Query {
        from: previous_start(q.from, q.to),
        to: q.from,
        ..q.clone()
    };
    let ago = Query {
        from: year_earlier(q.from),
        to: year_earlier(q.to),
        ..q.clone()
    };
    let now = totals(store, region, q).await?;
    let before = totals(store, region, &prev).await?;
    let year = totals(store, region, &ago).await?;
    Ok(Summary {
        received_mom: change(now.received, before.received),
        received_yoy: change(now.received, year.received),
        closed_mom: change(now.closed, before.closed),
        closed_yoy: change(now.closed, year.closed),
        period: now.figures(),
        previous: before.figures(),
        year_ago: year.figures(),
    })
}

/// One row of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub key: String,
    pub label: String,
    /// True when the cell is a caller-profile cell under [`MIN_CELL`]: its figures are withheld.
    pub suppressed: bool,
    #[serde(flatten)]
    pub figures: Option<Figures>,
}

fn date_of(day: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(719_163 + i32::try_from(day).ok()?)
}

const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

/// The grid unit of `tier` a cell lies in (itself when it is above the tier).
fn at_tier(region: &RegionIndex, code: &str, tier: u8) -> String {
    let mut at = region.grid(code);
    let mut depth = 0;
    while let Some(g) = at {
        if g.tier <= tier {
            return g.code.clone();
        }
        depth += 1;
        if depth > 8 {
            break;
        }
        at = g.parent.as_deref().and_then(|p| region.grid(p));
    }
    code.to_string()
}

/// Where a cell's key folds to, and its label.
fn key_of(region: &RegionIndex, by: By, raw: &str) -> (String, String) {
    let none = |label: &str| (String::new(), label.to_string());
    match by {
        By::Category if raw.is_empty() => none("未分类"),
        By::Category => (
            raw.to_string(),
            region
                .category(raw)
                .map(|c| c.name_zh.clone())
                .unwrap_or_else(|| raw.to_string()),
        ),
        By::Area(_) if raw.is_empty() => none("未定位"),
        By::Area(tier) => {
            let code = at_tier(region, raw, tier);
            let label = region.grid_path(&code);
            (code, label)
        }
        By::Unit if raw.is_empty() => none("未派单"),
        By::Unit => (
            raw.to_string(),
            region
                .unit(raw)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| raw.to_string()),
        ),
        By::Channel => (
            raw.to_string(),
            match raw {
                "phone" => "电话",
                "web" => "网站",
                "grid" => "网格上报",
                "sms" => "短信",
                "open311" => "Open311",
                other => other,
            }
            .to_string(),
        ),
        By::Gender => match raw {
            "" => none("未登记"),
            "male" => (raw.into(), "男".into()),
            "female" => (raw.into(), "女".into()),
            _ => (raw.into(), "其他".into()),
        },
        By::AgeBand | By::Occupation if raw.is_empty() => none("未登记"),
        By::AgeBand | By::Occupation => (raw.to_string(), raw.to_string()),
        By::Hour => {
            let h: i64 = raw.parse().unwrap_or(0);
            (format!("{h:02}"), format!("{h:02}时"))
        }
        By::Weekday | By::Day | By::Week | By::Month => {
            let day: i64 = raw.parse().unwrap_or(0);
            let Some(d) = date_of(day) else {
                return (raw.to_string(), raw.to_string());
            };
            match by {
                By::Weekday => {
                    let i = d.weekday().num_days_from_monday() as usize;
                    (format!("{}", i + 1), WEEKDAYS[i].to_string())
                }
                By::Day => (d.to_string(), d.format("%m-%d").to_string()),
                By::Week => {
                    let w = d.iso_week();
                    let k = format!("{}-W{:02}", w.year(), w.week());
                    (k.clone(), k)
                }
                _ => {
                    let k = d.format("%Y-%m").to_string();
                    (k.clone(), k)
                }
            }
        }
    }
}

/// A breakdown of a query by one dimension, largest first (times in order of time).
pub async fn breakdown(
    store: &Store,
    region: &RegionIndex,
    q: &Query,
    by: By,
) -> Result<Vec<Row>, StoreError> {
    let sums = store.rollup_sums(&filter(region, q), &[by.dim()]).await?;
    let mut cells: BTreeMap<String, (String, Counts)> = BTreeMap::new();
    for r in &sums {
        if by.is_profile() && r.metric != "received" {
            continue;
        }
        let (key, label) = key_of(region, by, &r.keys[0]);
        cells
            .entry(key)
            .or_insert_with(|| (label, Counts::default()))
            .1
            .add(&r.metric, r.bucket, r.n);
    }
    // Time dimensions list every slot of the period, empty ones included (a trend has no holes).
    if matches!(by, By::Hour | By::Weekday | By::Day) {
        let raws: Vec<String> = match by {
            By::Hour => (0..24).map(|h| h.to_string()).collect(),
            By::Weekday => (0..7)
                .map(|i| (rollups::day_hour(q.from).0 + i).to_string())
                .collect(),
            _ => (rollups::day_hour(q.from).0..rollups::day_hour(q.to).0)
                .map(|d| d.to_string())
                .collect(),
        };
        for raw in raws {
            let (key, label) = key_of(region, by, &raw);
            cells
                .entry(key)
                .or_insert_with(|| (label, Counts::default()));
        }
    }
    let mut rows: Vec<Row> = cells
        .into_iter()
        .map(|(key, (label, counts))| {
            let suppressed = by.is_profile() && counts.received < MIN_CELL;
            Row {
                key,
                label,
                suppressed,
                figures: (!suppressed).then(|| counts.figures()),
            }
        })
        .collect();
    let timed = matches!(by, By::Hour | By::Weekday | By::Day | By::Week | By::Month);
    if !timed {
        let n = |r: &Row| {
            r.figures
                .as_ref()
                .map(|f| f.counts.received.max(f.counts.dispatched))
                .unwrap_or(0)
        };
        rows.sort_by(|a, b| n(b).cmp(&n(a)).then_with(|| a.key.cmp(&b.key)));
    }
    Ok(rows)
}

/// Cases received by weekday (Monday first) × hour of day: the heat map's cells.
pub async fn heatmap(
    store: &Store,
    region: &RegionIndex,
    q: &Query,
) -> Result<[[i64; 24]; 7], StoreError> {
    let sums = store
        .rollup_sums(&filter(region, q), &[Dim::Day, Dim::Hour])
        .await?;
    let mut grid = [[0i64; 24]; 7];
    for r in sums.iter().filter(|r| r.metric == "received") {
        let day: i64 = r.keys[0].parse().unwrap_or(0);
        let hour: usize = r.keys[1].parse().unwrap_or(0);
        // 1970-01-01 was a Thursday (index 3 from Monday).
        let wd = (day + 3).rem_euclid(7) as usize;
        if hour < 24 {
            grid[wd][hour] += r.n;
        }
    }
    Ok(grid)
}

/// Merges rows' counts (the totals of a breakdown).
pub fn merged<'a>(counts: impl IntoIterator<Item = &'a Counts>) -> Counts {
    let mut out = Counts::default();
    for c in counts {
        out.merge(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_read_bucket_bounds() {
        let mut h = vec![0; BOUNDS_MIN.len() + 1];
        assert_eq!(quantile(&h, 0.5), None);
        h[0] = 5; // ≤ 5 min
        h[4] = 4; // (30, 60] min
        h[6] = 1; // (120, 180] min
        assert_eq!(quantile(&h, 0.5), Some(5));
        assert_eq!(quantile(&h, 0.9), Some(60));
        assert_eq!(quantile(&h, 1.0), Some(180));
        h[BOUNDS_MIN.len()] = 100;
        assert_eq!(quantile(&h, 0.9), None, "the open bucket has no bound");
    }

    #[test]
    fn months_and_years_bound_periods() {
        let (a, b) = month_bounds("2026-11").unwrap();
        assert_eq!(b - a, 30 * DAY_MS);
        let (a, b) = month_bounds("2026-12").unwrap();
        assert_eq!(b - a, 31 * DAY_MS);
        assert!(month_bounds("2026-13").is_none());
        assert!(month_bounds("11").is_none());
        let (nov, dec) = month_bounds("2026-11").unwrap();
        assert_eq!(year_earlier(nov), month_bounds("2025-11").unwrap().0);
        // November's 环比 is October, all 31 days of it; a 10-day period the 10 days before.
        assert_eq!(previous_start(nov, dec), month_bounds("2026-10").unwrap().0);
        assert_eq!(
            previous_start(nov + DAY_MS, nov + 11 * DAY_MS),
            nov - 9 * DAY_MS
        );
    }

    #[test]
    fn rates_are_null_without_a_denominator() {
        let f = Counts::default().figures();
        assert_eq!(f.sign_on_time_rate, None);
        assert_eq!(f.satisfaction_rate, None);
        let mut c = Counts::default();
        c.add("signed", 0, 4);
        c.add("sign_late", 0, 1);
        c.add("satisfied", 0, 3);
        c.add("unsatisfied", 0, 1);
        let f = c.figures();
        assert_eq!(f.sign_on_time_rate, Some(0.75));
        assert_eq!(f.satisfaction_rate, Some(0.75));
        assert_eq!(change(12, 10), Some(0.2));
        assert_eq!(change(3, 0), None);
    }

    #[test]
    fn day_numbers_name_dates_and_weekdays() {
        // Day 0 is 1970-01-01, a Thursday.
        assert_eq!(date_of(0).unwrap().to_string(), "1970-01-01");
        let region = RegionIndex::new(Default::default());
        assert_eq!(key_of(&region, By::Weekday, "0").1, "周四");
        assert_eq!(key_of(&region, By::Hour, "7").0, "07");
        assert_eq!(key_of(&region, By::Gender, "").1, "未登记");
    }
}
