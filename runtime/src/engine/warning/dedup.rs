/*!
Near-duplicate requests (一事多诉): many callers, one problem. A broken street light at a busy
crossing is reported five times in five wordings; the center should see one problem with five
callers (and tell all five when it is fixed), not five cases for five crews.

A new request is **suggested** as a duplicate of an open case when all three hold:

1. **Text** — the Jaccard similarity of their feature sets is at least
   [`DedupParams::threshold`] (default 0.4);
2. **Place** — both have coordinates within [`DedupParams::radius_m`] (500 m), or, without
   coordinates, their grid paths (codes from the top tier down) share at least
   [`DedupParams::min_common_tiers`] (2) tiers: the same community, or a unit and its parent;
3. **Time** — less than [`DedupParams::window_hours`] (72 h) apart.

It is a suggestion: an operator merges. So the rule favours recall over precision, within
reason — what a false merge costs is an operator's "no".

**Features.** Short complaints share almost nothing but their place name, and the place is
judged separately (rule 2), so the text is reduced to *the problem*:

- the text is normalised through a small lexicon of the common civic problems ([`LEXICON`]:
  不亮/没亮/熄灭/坏了/故障 → 坏, 灯 → 路灯, 堵塞 → 堵 …) — five people say "the light is out" five
  ways, and the lexicon is what makes them one;
- it is cut into words with jieba; dropped are stopwords, complaint boilerplate (反映, 存在安全隐
  患, 请尽快处理 …), time words (三天, 晚上 …), punctuation, numbers, and place words: generic
  ones (路口, 交叉口, 附近 …), names ending in a place suffix (和平路, 幸福小区 …) and a word
  right before a place word (和平 in 和平|路口). Numbers go too: house numbers are place, and
  callers rarely agree on them (12号 / 对面 / nothing), so they would split more duplicates than
  they separate; the operator sees the addresses when confirming;
- the features are the remaining words (single characters included: 坏, 堵, 漏 carry the
  problem) plus character bigrams — inside each word, and across a boundary next to a single
  character — which catch what the segmenter cut differently (路灯杆 / 路灯, 乱|倒 / 乱倒).

**Threshold.** On the tests' examples (test `print_matrix` prints them) the eight reports of
the street light have similarity 0.5–1.0 with one another (1.0 for seven of them: the lexicon
reduces them to 路灯 + 坏; 0.5 when a caller adds a symptom, 看不清), and different problems at
the same crossing 0.0–0.29 (garbage, noise, drain 0; 红绿灯坏了 0.29, sharing 坏; a pothole 0.1;
a wind-damaged lightbox 0.08). 0.4 sits in that gap, nearer the lower side because a missed
duplicate costs a crew trip and a false one an operator's "no".

**MinHash.** [`Fingerprint::sig`] is a 64-value MinHash signature (hash family
`splitmix64(fnv1a(feature) ^ seed_i)`, fixed seeds: deterministic across processes and
versions), for storing and comparing fingerprints without their features; the estimate's
standard error at J = 0.45 is √(J(1−J)/64) ≈ 0.06. [`similarity`] uses the exact Jaccard when
both fingerprints carry their features and the estimate otherwise.
*/

use std::collections::BTreeSet;

use jieba_rs::Jieba;

use super::splitmix64;

/// Number of MinHash values in a signature.
pub const SIG_LEN: usize = 64;

/// The synonym lexicon: `(variant, canonical)`, applied longest variant first before
/// segmentation. Canonical forms are the words the features keep.
pub const LEXICON: &[(&str, &str)] = &[
    // Lights: the object and "not working".
    ("路灯", "路灯"),
    ("街灯", "路灯"),
    ("灯杆", "路灯"),
    ("楼道灯", "楼道灯"),
    ("灯箱", "灯箱"),
    ("红绿灯", "红绿灯"),
    ("信号灯", "红绿灯"),
    ("交通灯", "红绿灯"),
    ("灯", "路灯"),
    ("不亮", "坏"),
    ("没亮", "坏"),
    ("熄灭", "坏"),
    ("很黑", "坏"),
    ("一闪一闪", "坏"),
    ("闪烁", "坏"),
    ("忽明忽暗", "坏"),
    ("黑灯瞎火", "坏"),
    ("坏了", "坏"),
    ("坏掉", "坏"),
    ("损坏", "坏"),
    ("故障", "坏"),
    ("失灵", "坏"),
    // Drains, water, power, gas.
    ("下水道", "下水道"),
    ("排水沟", "下水道"),
    ("窨井", "下水道"),
    ("堵塞", "堵"),
    ("堵住", "堵"),
    ("不通", "堵"),
    ("停水", "停水"),
    ("没水", "停水"),
    ("没有水", "停水"),
    ("停电", "停电"),
    ("没电", "停电"),
    ("漏水", "漏水"),
    ("爆管", "漏水"),
    ("水管破", "漏水"),
    ("煤气味", "燃气泄漏"),
    ("燃气味", "燃气泄漏"),
    // Environment and order.
    ("噪声", "噪音"),
    ("扰民", "噪音"),
    ("太吵", "噪音"),
    ("建筑垃圾", "垃圾"),
    ("渣土", "垃圾"),
    ("倾倒", "乱倒"),
    ("乱扔", "乱倒"),
    ("乱堆", "乱倒"),
    ("井盖丢", "井盖缺失"),
    ("没有井盖", "井盖缺失"),
    ("坑洼", "路面坑"),
    ("大坑", "路面坑"),
];

/// Words dropped everywhere: function words, complaint boilerplate, time words.
const STOPWORDS: &[&str] = &[
    "的",
    "了",
    "我",
    "你",
    "他",
    "她",
    "它",
    "们",
    "是",
    "在",
    "有",
    "就",
    "也",
    "都",
    "还",
    "又",
    "和",
    "与",
    "跟",
    "及",
    "吧",
    "啊",
    "呢",
    "吗",
    "嘛",
    "哦",
    "喂",
    "呀",
    "啦",
    "嗯",
    "那个",
    "这个",
    "一下",
    "一个",
    "我们",
    "你们",
    "他们",
    "请",
    "您",
    "好",
    "你好",
    "这",
    "那",
    "就是",
    "说",
    "给",
    "把",
    "被",
    "让",
    "很",
    "太",
    "要",
    "想",
    "能",
    "会",
    "个",
    "人",
    "已经",
    "一直",
    "没有",
    "不",
    "没",
    "来",
    "去",
    "到",
    "对",
    "着",
    "过",
    "得",
    "地",
    "麻烦",
    "谢谢",
    "帮",
    "帮忙",
    "看看",
    "非常",
    "特别",
    "严重",
    "经常",
    "总是",
    "多次",
    "反复",
    "反映",
    "投诉",
    "举报",
    "存在",
    "安全隐患",
    "隐患",
    "希望",
    "尽快",
    "赶紧",
    "马上",
    "处理",
    "解决",
    "维修",
    "修",
    "修理",
    "相关",
    "有关",
    "部门",
    "相关部门",
    "有关部门",
    "影响",
    "出行",
    "居民",
    "群众",
    "市民",
    "有人",
    "时间",
    "情况",
    "问题",
    "现象",
    "现在",
    "今天",
    "昨天",
    "前天",
    "晚上",
    "夜里",
    "夜间",
    "白天",
    "早上",
    "上午",
    "下午",
    "凌晨",
    "天天",
    "每天",
    "好几天",
    "几天",
    "有时",
    "有时候",
    "时不时",
    "一到",
    "就",
    "盏",
    "那盏",
    "这盏",
    "一盏",
    "有盏",
    "条",
    "根",
];

/// Place words that are never the problem.
const PLACE_WORDS: &[&str] = &[
    "路口",
    "交叉口",
    "交叉路口",
    "十字路口",
    "丁字路口",
    "路段",
    "路边",
    "路上",
    "附近",
    "门口",
    "旁边",
    "对面",
    "周边",
    "一带",
    "这里",
    "那里",
    "这边",
    "那边",
    "楼下",
    "楼上",
    "路",
    "街",
    "巷",
    "口",
    "处",
    "位置",
    "地方",
    "区域",
];

/// Words that end a place name the segmenter cut off (和平|路口): the word before is a name.
const NAME_TAILS: &[&str] = &["路口", "交叉口", "交叉路口", "十字路口", "丁字路口", "口"];

/// Endings of place names (和平路, 中山街, 幸福小区 …).
const PLACE_SUFFIXES: &[&str] = &[
    "路", "街", "巷", "弄", "大道", "村", "镇", "乡", "社区", "小区", "花园", "广场", "公园",
    "大厦", "市场", "学校", "小学", "中学", "医院", "车站", "新村", "家园", "苑", "桥",
];

/// Characters of numbers (Arabic and Chinese) and time units, for "三天", "12号" and the like.
const NUMBER_CHARS: &str = "0123456789０１２３４５６７８９零〇一二两三四五六七八九十百千万几多半";
/// Units after a number that make it a time or an address, not a problem.
const NUMBER_UNITS: &str = "天日号周月年次个楼栋幢层单元室户点分钟小时";

/// A text's fingerprint: its MinHash signature and, when kept, its features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// MinHash signature ([`SIG_LEN`] values; all `u64::MAX` for a text with no features).
    pub sig: Vec<u64>,
    /// The features (`w:` words, `b:` bigrams); may be empty for a stored signature.
    pub tokens: BTreeSet<String>,
}

/// A request considered for duplicates.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The case id.
    pub id: i64,
    /// Its text's fingerprint.
    pub fingerprint: Fingerprint,
    /// When it was received (ms since the epoch).
    pub at_ms: i64,
    /// Its position (latitude, longitude in degrees), if located.
    pub latlon: Option<(f64, f64)>,
    /// Its grid unit codes from the top tier down (empty when unlocated).
    pub grid_path: Vec<String>,
    /// Its category code, if classified.
    pub category: Option<String>,
}

/// Parameters of duplicate suggestions.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupParams {
    /// Least text similarity (Jaccard).
    pub threshold: f64,
    /// Longest time between the two requests, hours.
    pub window_hours: f64,
    /// Largest distance between two located requests, meters.
    pub radius_m: f64,
    /// Fewest shared grid tiers (from the top) between two unpositioned requests.
    pub min_common_tiers: usize,
    /// Only suggest open cases of the same category (when both are classified).
    pub require_same_category: bool,
}

impl Default for DedupParams {
    fn default() -> DedupParams {
        DedupParams {
            threshold: 0.4,
            // Three days: long enough for the callers of one problem, short enough that a
            // recurrence after the repair is a new case.
            window_hours: 72.0,
            // A crossing and its approaches; a residential block.
            radius_m: 500.0,
            min_common_tiers: 2,
            // The classifier can put one problem in two categories; the text decides.
            require_same_category: false,
        }
    }
}

/// FNV-1a, 64-bit: the base hash of a feature (stable, unlike `std`'s hasher).
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

/// Applies [`LEXICON`], longest variant first at each position.
fn normalise(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 6)].iter().collect();
        let hit = LEXICON
            .iter()
            .filter(|(v, _)| rest.starts_with(v))
            .max_by_key(|(v, _)| v.chars().count());
        match hit {
            Some((v, canonical)) => {
                out.push_str(canonical);
                i += v.chars().count();
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// A number with an optional unit (三天, 12号, 3栋, 2024): time or address.
fn is_number_word(w: &str) -> bool {
    let mut chars = w.chars().peekable();
    let mut digits = 0;
    while chars.next_if(|c| NUMBER_CHARS.contains(*c)).is_some() {
        digits += 1;
    }
    digits > 0 && chars.all(|c| NUMBER_UNITS.contains(c))
}

fn is_place_word(w: &str) -> bool {
    PLACE_WORDS.contains(&w)
        || PLACE_SUFFIXES
            .iter()
            .any(|s| w.ends_with(s) && w != *s && !LEXICON.iter().any(|(_, c)| c == &w))
}

/// The problem words of a text, in order (see the module docs).
fn words(jieba: &Jieba, text: &str, places: &[&str]) -> Vec<String> {
    let mut text = text.to_string();
    for p in places.iter().filter(|p| !p.is_empty()) {
        text = text.replace(p, " ");
    }
    let text = normalise(&text);
    let cut: Vec<&str> = jieba
        .cut(&text, false)
        .into_iter()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for (i, w) in cut.iter().enumerate() {
        let next_is_name_tail = cut
            .get(i + 1)
            .is_some_and(|n| PLACE_SUFFIXES.contains(n) || NAME_TAILS.contains(n));
        if STOPWORDS.contains(w)
            || !w.chars().any(is_han)
            || is_number_word(w)
            || is_place_word(w)
            || PLACE_SUFFIXES.contains(w)
            // 和平 in 和平|路口: a name cut from its place word.
            || (next_is_name_tail && w.chars().count() >= 2 && !LEXICON.iter().any(|(_, c)| c == w))
        {
            continue;
        }
        out.push(w.chars().filter(|&c| is_han(c)).collect::<String>());
    }
    out.retain(|w| !w.is_empty());
    out
}

/// The fingerprint of a request text.
pub fn fingerprint(jieba: &Jieba, text: &str) -> Fingerprint {
    fingerprint_without(jieba, text, &[])
}

/// The fingerprint of a request text with known place names removed first (the locator's
/// matches, the grid unit's name): better than the suffix heuristics when the caller has them.
pub fn fingerprint_without(jieba: &Jieba, text: &str, places: &[&str]) -> Fingerprint {
    let words = words(jieba, text, places);
    let mut tokens: BTreeSet<String> = words.iter().map(|w| format!("w:{w}")).collect();
    let mut bigram = |a: char, b: char| {
        if a != b {
            tokens.insert(format!("b:{a}{b}"));
        }
    };
    for (i, w) in words.iter().enumerate() {
        let chars: Vec<char> = w.chars().collect();
        for pair in chars.windows(2) {
            bigram(pair[0], pair[1]);
        }
        // Across a boundary only next to a single character, where the segmenter split a
        // word (乱|倒, 灯|坏); between two whole words a bigram is noise (坏|看不清 → 坏看).
        if let (Some(next), Some(&last)) = (words.get(i + 1), chars.last())
            && (chars.len() == 1 || next.chars().count() == 1)
            && let Some(first) = next.chars().next()
        {
            bigram(last, first);
        }
    }
    Fingerprint {
        sig: signature(&tokens),
        tokens,
    }
}

/// The MinHash signature of a feature set.
pub fn signature(tokens: &BTreeSet<String>) -> Vec<u64> {
    let mut sig = vec![u64::MAX; SIG_LEN];
    for t in tokens {
        let base = fnv1a(t);
        for (i, s) in sig.iter_mut().enumerate() {
            // Seeds are fixed: signatures stored today compare with those computed next year.
            let h = splitmix64(base ^ splitmix64(0x6d31_3130 + i as u64));
            *s = (*s).min(h);
        }
    }
    sig
}

/// The exact Jaccard similarity of two feature sets (0 when both are empty).
pub fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let inter = a.intersection(b).count();
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// The MinHash estimate of the Jaccard similarity: the share of equal signature values (0 when
/// either text had no features or the signatures differ in length).
pub fn minhash_similarity(a: &[u64], b: &[u64]) -> f64 {
    if a.len() != b.len()
        || a.is_empty()
        || a.iter().all(|&v| v == u64::MAX)
        || b.iter().all(|&v| v == u64::MAX)
    {
        return 0.0;
    }
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

/// The text similarity of two fingerprints: exact Jaccard when both carry features, else the
/// MinHash estimate.
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> f64 {
    if !a.tokens.is_empty() && !b.tokens.is_empty() {
        jaccard(&a.tokens, &b.tokens)
    } else {
        minhash_similarity(&a.sig, &b.sig)
    }
}

/// Distance in meters between two positions (degrees), equirectangular: exact enough below
/// a few km, which is all the radius needs.
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_M: f64 = 6_371_008.8;
    let lat = (0.5 * (a.0 + b.0)).to_radians();
    let dx = (b.1 - a.1).to_radians() * lat.cos();
    let dy = (b.0 - a.0).to_radians();
    EARTH_M * (dx * dx + dy * dy).sqrt()
}

/// Whether two requests are near in place (rule 2 of the module docs).
pub fn near_in_place(a: &Candidate, b: &Candidate, p: &DedupParams) -> bool {
    if let (Some(x), Some(y)) = (a.latlon, b.latlon) {
        return distance_m(x, y) <= p.radius_m;
    }
    let common = a
        .grid_path
        .iter()
        .zip(&b.grid_path)
        .take_while(|(x, y)| x == y)
        .count();
    common >= p.min_common_tiers.max(1)
}

/// The open cases `new` is probably a duplicate of, most similar first (ties by id):
/// `(case id, text similarity)`. `new` itself (same id) is never suggested.
pub fn suggestions(new: &Candidate, open: &[Candidate], p: &DedupParams) -> Vec<(i64, f64)> {
    let window_ms = p.window_hours * 3_600_000.0;
    let mut out: Vec<(i64, f64)> = open
        .iter()
        .filter(|c| c.id != new.id)
        .filter(|c| ((c.at_ms - new.at_ms).abs() as f64) <= window_ms)
        .filter(|c| {
            !p.require_same_category
                || match (&c.category, &new.category) {
                    (Some(x), Some(y)) => x == y,
                    _ => true,
                }
        })
        .filter(|c| near_in_place(new, c, p))
        .map(|c| (c.id, similarity(&new.fingerprint, &c.fingerprint)))
        .filter(|&(_, s)| s >= p.threshold)
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::LazyLock;

    static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

    const LIGHT: &[&str] = &[
        "和平路口的路灯坏了好几天，晚上很黑",
        "和平路与中山路交叉口路灯不亮",
        "反映和平路口路灯晚上不亮，存在安全隐患",
        "和平路那个十字路口的灯坏了",
        "和平路路口路灯已经三天没亮了请尽快修",
    ];
    const OTHERS: &[&str] = &[
        "和平路口有人乱倒建筑垃圾",
        "和平路口噪音扰民，夜里施工",
        "和平路口的下水道堵了",
    ];

    /// More wordings: three more reports of the light, then different problems at the same
    /// crossing that share words with it (坏, 灯).
    const MORE: &[&str] = &[
        "中山路和平路交叉路口那盏路灯一到晚上就不亮",
        "和平路口路灯坏了，晚上走路看不清",
        "和平路十字路口有盏灯一闪一闪的，有时候不亮",
        "和平路口的红绿灯坏了",
        "和平路口的路面坏了，有个大坑",
        "和平路口那边的灯箱广告牌被风吹坏了",
    ];

    fn fp(t: &str) -> Fingerprint {
        fingerprint(&JIEBA, t)
    }

    fn case(id: i64, text: &str, hours: f64) -> Candidate {
        Candidate {
            id,
            fingerprint: fp(text),
            at_ms: 1_750_000_000_000 + (hours * 3_600_000.0) as i64,
            latlon: None,
            grid_path: vec!["350781".into(), "350781001".into(), "350781001003".into()],
            category: None,
        }
    }

    #[test]
    #[ignore = "prints the similarity matrix behind the threshold"]
    fn print_matrix() {
        let all: Vec<&str> = LIGHT.iter().chain(OTHERS).chain(MORE).copied().collect();
        for a in &all {
            let f = fp(a);
            let row: Vec<String> = all
                .iter()
                .map(|b| format!("{:.2}", similarity(&f, &fp(b))))
                .collect();
            println!("{} {:?} {a}", row.join(" "), f.tokens);
        }
    }

    #[test]
    fn five_reports_of_one_light_suggest_one_another() {
        let p = DedupParams::default();
        for (i, a) in LIGHT.iter().enumerate() {
            for b in &LIGHT[i + 1..] {
                let s = similarity(&fp(a), &fp(b));
                assert!(s >= p.threshold, "{a} / {b}: {s}");
            }
        }
        let open: Vec<Candidate> = LIGHT
            .iter()
            .enumerate()
            .map(|(i, t)| case(i as i64, t, i as f64))
            .collect();
        for new in &open {
            let ids: Vec<i64> = suggestions(new, &open, &p).iter().map(|s| s.0).collect();
            let mut want: Vec<i64> = (0..5).filter(|&i| i != new.id).collect();
            let mut got = ids.clone();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{:?}", new.id);
        }
    }

    #[test]
    fn other_problems_at_the_same_place_are_not_suggested() {
        let p = DedupParams::default();
        let open: Vec<Candidate> = LIGHT
            .iter()
            .chain(OTHERS)
            .enumerate()
            .map(|(i, t)| case(i as i64, t, 1.0))
            .collect();
        for (i, other) in OTHERS.iter().enumerate() {
            let new = case(100 + i as i64, other, 2.0);
            assert_eq!(
                suggestions(&new, &open, &p)
                    .iter()
                    .map(|s| s.0)
                    .collect::<Vec<_>>(),
                vec![5 + i as i64],
                "{other}"
            );
            for light in LIGHT {
                let s = similarity(&fp(other), &fp(light));
                assert!(s < 0.2, "{other} / {light}: {s}");
            }
        }
        for (i, a) in OTHERS.iter().enumerate() {
            for b in &OTHERS[i + 1..] {
                assert!(similarity(&fp(a), &fp(b)) < 0.2, "{a} / {b}");
            }
        }
    }

    #[test]
    fn the_same_text_far_away_or_long_after_is_not_suggested() {
        let p = DedupParams::default();
        let first = case(1, LIGHT[0], 0.0);
        // Another community of the same township: shares one tier only.
        let mut elsewhere = case(2, LIGHT[0], 1.0);
        elsewhere.grid_path = vec!["350781".into(), "350781002".into(), "350781002001".into()];
        assert!(suggestions(&elsewhere, std::slice::from_ref(&first), &p).is_empty());
        // A parent unit (located to the community only) is near.
        let mut parent = case(3, LIGHT[0], 1.0);
        parent.grid_path.truncate(2);
        assert_eq!(
            suggestions(&parent, std::slice::from_ref(&first), &p),
            vec![(1, 1.0)]
        );
        // Four days later.
        let later = case(4, LIGHT[0], 96.0);
        assert!(suggestions(&later, std::slice::from_ref(&first), &p).is_empty());
        // Coordinates decide when both have them: 300 m is near, 2 km is not.
        let mut a = case(5, LIGHT[0], 0.0);
        let mut b = case(6, LIGHT[1], 1.0);
        a.latlon = Some((27.3400, 117.4800));
        b.latlon = Some((27.3427, 117.4800));
        assert!((distance_m(a.latlon.unwrap(), b.latlon.unwrap()) - 300.0).abs() < 5.0);
        assert_eq!(suggestions(&b, std::slice::from_ref(&a), &p).len(), 1);
        b.latlon = Some((27.3580, 117.4800));
        assert!(suggestions(&b, std::slice::from_ref(&a), &p).is_empty());
        // The same case is never its own duplicate; a category rule when asked.
        assert!(suggestions(&first, std::slice::from_ref(&first), &p).is_empty());
        let strict = DedupParams {
            require_same_category: true,
            ..DedupParams::default()
        };
        let mut x = case(7, LIGHT[0], 0.0);
        let mut y = case(8, LIGHT[1], 1.0);
        x.category = Some("streetlight".into());
        y.category = Some("roads".into());
        assert!(suggestions(&y, std::slice::from_ref(&x), &strict).is_empty());
        assert_eq!(suggestions(&y, std::slice::from_ref(&x), &p).len(), 1);
    }

    #[test]
    fn more_wordings_fall_on_the_right_side() {
        let p = DedupParams::default();
        let first = fp(LIGHT[0]);
        for t in &MORE[..3] {
            assert!(similarity(&first, &fp(t)) >= p.threshold, "{t}");
        }
        for t in &MORE[3..] {
            for light in LIGHT.iter().chain(&MORE[..3]) {
                assert!(
                    similarity(&fp(light), &fp(t)) < p.threshold,
                    "{light} / {t}"
                );
            }
        }
    }

    #[test]
    fn minhash_estimates_jaccard_and_is_deterministic() {
        let a: BTreeSet<String> = (0..60).map(|i| format!("w:{i}")).collect();
        let b: BTreeSet<String> = (30..90).map(|i| format!("w:{i}")).collect();
        // J = 30 / 90 = 1/3; 4 standard errors at 64 values ≈ 0.24.
        let est = minhash_similarity(&signature(&a), &signature(&b));
        assert!((est - 1.0 / 3.0).abs() < 0.24, "{est}");
        assert!((jaccard(&a, &b) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(signature(&a), signature(&a.clone()));
        // Without features the estimate is used.
        let (fa, fb) = (fp(LIGHT[0]), fp(LIGHT[3]));
        let bare = |f: &Fingerprint| Fingerprint {
            sig: f.sig.clone(),
            tokens: BTreeSet::new(),
        };
        let est = similarity(&bare(&fa), &bare(&fb));
        assert!((est - similarity(&fa, &fb)).abs() < 0.3, "{est}");
        // Empty texts are similar to nothing.
        assert_eq!(similarity(&fp("，。！"), &fp("？？")), 0.0);
        assert_eq!(minhash_similarity(&fp("").sig, &fp("").sig), 0.0);
    }

    #[test]
    fn known_place_names_are_removed_and_numbers_dropped() {
        let with = fingerprint_without(&JIEBA, "幸福里3栋12号楼道灯不亮", &["幸福里"]);
        assert!(
            with.tokens
                .iter()
                .all(|t| !t.contains('幸') && !t.contains('3')),
            "{:?}",
            with.tokens
        );
        assert!(with.tokens.contains("w:坏"), "{:?}", with.tokens);
        assert!(is_number_word("三天") && is_number_word("12号") && is_number_word("2024"));
        assert!(!is_number_word("路灯") && !is_number_word("天"));
        assert_eq!(normalise("路灯没亮了"), "路灯坏了");
    }
}
