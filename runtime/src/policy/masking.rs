/*!
Masking of personal data — one function per kind of value, used by every front-end and export.
Which roles see a value unmasked is [`super::access`]; the rules are documented in
`docs/privacy.md`.

The rule for numbers: **at least half of the digits are hidden, whatever the length** (a star
per hidden digit, so the length shows but not the value). The familiar display form
`138****5678` (3 + 4 of 11 digits kept) hides only 4 of 11 and `876****4321` hid 1 of 8, so:

| value | kept | example |
|---|---|---|
| mobile / other number of n digits | the last min(4, ⌊n/2⌋), then up to 3 leading, ⌊n/2⌋ in all | `13812345678` → `1******5678`, `87654321` → `****4321` |
| landline (leading 0, 10–12 digits) | the area code (a place, shared by a whole county) and ⌊s/2⌋ (at most 4) of the s subscriber digits | `037126981234` → `0371-****1234`, `05996301234` → `0599-****234` |
| resident ID number of n characters | the first min(6, …) (the division code: a place) and last 3, ⌊n/2⌋ in all | `350781199001011234` → `350781*********234` |
| name | the first character (the family name) | `欧阳小明` → `欧***` |

Masking happens at the edges (API responses, console pages, exports); the database keeps the
full value (normalized by `engine::intake::normalize_phone`) so the roles that need it
can still call a citizen back. Reads of vulnerable-household records are audited whatever the
role (see `store::households`); an audit row never holds a full number, only [`audit_key`].
*/

use super::credentials::sha256_hex;

/// How a refused or sensitive read names the value it was about without storing it:
/// `sha256:<hex>` of the full (normalized) value — the same number always gives the same key,
/// so an auditor holding the number can find the rows, and the log alone reveals nothing.
pub fn audit_key(value: &str) -> String {
    format!("sha256:{}", sha256_hex(value.trim()))
}

/// Keeps `head` leading and `tail` trailing characters of `chars`, a star for each between.
fn keep_ends(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    let (head, tail) = (head.min(n), tail.min(n.saturating_sub(head)));
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// Masks a run of digits: ⌊n/2⌋ kept in all — the last min(4, ⌊n/2⌋) and up to 3 leading.
fn mask_digits(digits: &[char]) -> String {
    let keep = digits.len() / 2;
    let tail = keep.min(4);
    keep_ends(digits, (keep - tail).min(3), tail)
}

/// The length of a landline's area code (`010`, `02x`: 3; other `0xxx`: 4), when `digits` is a
/// landline with its area code (leading 0, 10–12 digits, not an international `00` prefix).
fn area_code_len(digits: &str) -> Option<usize> {
    let n = digits.len();
    if !digits.starts_with('0') || digits.starts_with("00") || !(10..=12).contains(&n) {
        return None;
    }
    Some(if digits.starts_with("010") || digits.starts_with("02") {
        3
    } else {
        4
    })
}

/// Masks a phone number so that at least half of its digits are hidden (see the module table):
/// `13812345678` → `1******5678`, `87654321` → `****4321`, `110` → `**0`; a landline keeps its
/// area code and at most half of the subscriber number (`0371-2698-1234` → `0371-****1234`).
/// Separators are dropped, a leading `+` kept; empty stays empty.
pub fn mask_phone(phone: &str) -> String {
    let trimmed = phone.trim();
    let plus = if trimmed.starts_with('+') { "+" } else { "" };
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        // Not a number at all: nothing of it is shown.
        return "*".repeat(trimmed.chars().count());
    }
    if plus.is_empty()
        && let Some(area) = area_code_len(&digits)
    {
        let sub: Vec<char> = digits[area..].chars().collect();
        let keep = (sub.len() / 2).min(4);
        return format!("{}-{}", &digits[..area], keep_ends(&sub, 0, keep));
    }
    let chars: Vec<char> = digits.chars().collect();
    format!("{plus}{}", mask_digits(&chars))
}

/// A stored phone number as people write it: `037126981234` → `0371-26981234` (the area code
/// kept apart: 3 digits for 010 and 02x, else 4), `4008123123` → `400-812-3123`; mobiles,
/// short numbers and anything already punctuated stay as they are.
pub fn display_phone(phone: &str) -> String {
    let p = phone.trim();
    if !p.chars().all(|c| c.is_ascii_digit()) {
        return p.to_string();
    }
    let n = p.len();
    if let Some(area) = area_code_len(p) {
        return format!("{}-{}", &p[..area], &p[area..]);
    }
    if (p.starts_with("400") || p.starts_with("800")) && n == 10 {
        return format!("{}-{}-{}", &p[..3], &p[3..6], &p[6..]);
    }
    p.to_string()
}

/// The masked form for display: [`mask_phone`] already keeps a landline's area code apart
/// (`0371-****1234`), so a call-taker still sees where a masked caller is.
pub fn mask_display_phone(phone: &str) -> String {
    mask_phone(phone)
}

/// `350781199001011234` → `350781*********234`: ⌊n/2⌋ characters kept — the last min(3, ⌊n/2⌋)
/// and up to 6 leading (the division code) — so the birth date and at least half of the
/// characters are always hidden.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let keep = chars.len() / 2;
    let tail = keep.min(3);
    keep_ends(&chars, (keep - tail).min(6), tail)
}

/// Masks an optional phone number.
pub fn mask_phone_opt(phone: Option<&str>) -> Option<String> {
    phone.map(mask_phone)
}

/// `张三` → `张*`, `欧阳小明` → `欧***`: keeps the first character (the family name usually);
/// a one-character name still gets one star, so a mask never reveals the length 1.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_show_as_written() {
        assert_eq!(display_phone("037126981234"), "0371-26981234");
        assert_eq!(display_phone("01062345678"), "010-62345678");
        assert_eq!(display_phone("02087654321"), "020-87654321");
        assert_eq!(display_phone("05996301234"), "0599-6301234");
        assert_eq!(display_phone("13800138000"), "13800138000");
        assert_eq!(display_phone("4008123123"), "400-812-3123");
        assert_eq!(display_phone("110"), "110");
        assert_eq!(display_phone("0599-6301234"), "0599-6301234");
        assert_eq!(mask_display_phone("037126981234"), "0371-****1234");
        assert_eq!(mask_display_phone("13800138000"), "1******8000");
    }

    #[test]
    fn masks_phone_numbers() {
        assert_eq!(mask_phone("13812345678"), "1******5678");
        assert_eq!(mask_phone(" 13812345678 "), "1******5678");
        // The case: 8 digits used to keep 7.
        assert_eq!(mask_phone("87654321"), "****4321");
        assert_eq!(mask_phone("0599-7654321"), "0599-****321");
        assert_eq!(mask_phone("01062345678"), "010-****5678");
        assert_eq!(mask_phone("5551234"), "****234");
        assert_eq!(mask_phone("110"), "**0");
        assert_eq!(mask_phone("12"), "*2");
        assert_eq!(mask_phone("7"), "*");
        assert_eq!(mask_phone("+447911123456"), "+44******3456");
        assert_eq!(mask_phone(""), "");
        assert_eq!(mask_phone_opt(None), None);
    }

    #[test]
    fn masks_names() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name(" 欧阳小明 "), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn masks_id_numbers() {
        assert_eq!(mask_id_number("350781199001011234"), "350781*********234");
        assert_eq!(mask_id_number("35078119900101123X"), "350781*********23X");
        assert_eq!(mask_id_number("350781900101123"), "3507********123");
        assert_eq!(mask_id_number("1234567"), "****567");
        assert_eq!(mask_id_number(""), "");
    }

    /// A small deterministic generator (no dependency): digits for the length loop below.
    fn digits(seed: &mut u64, n: usize, first: char) -> String {
        let mut s = String::from(first);
        while s.len() < n {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push(char::from(b'0' + ((*seed >> 33) % 10) as u8));
        }
        s.truncate(n);
        s
    }

    fn stars(s: &str) -> usize {
        s.chars().filter(|c| *c == '*').count()
    }

    /// The rule itself, for every length and many values: at least half of the digits hidden
    /// (of the subscriber number for a landline), one star per hidden digit, and the kept
    /// digits are the value's own ends.
    #[test]
    fn at_least_half_of_every_number_is_hidden() {
        let mut seed = 7;
        for n in 1..=24 {
            for first in ['1', '0', '4', '8'] {
                for _ in 0..50 {
                    let phone = digits(&mut seed, n, first);
                    let masked = mask_phone(&phone);
                    let shown: String = masked.chars().filter(char::is_ascii_digit).collect();
                    match area_code_len(&phone) {
                        Some(area) => {
                            let sub = n - area;
                            assert!(stars(&masked) * 2 >= sub, "{phone} → {masked}");
                            assert!(masked.starts_with(&format!("{}-", &phone[..area])));
                            assert_eq!(stars(&masked) + shown.len(), n, "{phone} → {masked}");
                        }
                        None => {
                            assert!(stars(&masked) * 2 >= n, "{phone} → {masked}");
                            assert_eq!(stars(&masked) + shown.len(), n, "{phone} → {masked}");
                        }
                    }
                    let head: String = masked.chars().take_while(|c| *c != '*').collect();
                    assert!(
                        phone.starts_with(&head.replace('-', "")),
                        "{phone} → {masked}"
                    );
                    let tail: String = masked.chars().rev().take_while(|c| *c != '*').collect();
                    let tail: String = tail.chars().rev().collect();
                    assert!(phone.ends_with(&tail), "{phone} → {masked}");

                    let id = mask_id_number(&phone);
                    assert!(stars(&id) * 2 >= n, "{phone} → {id}");
                    assert_eq!(id.chars().count(), n);
                }
            }
        }
    }

    #[test]
    fn masked_values_never_contain_the_middle_digits() {
        let phone = "13987654321";
        let masked = mask_phone(phone);
        assert!(!masked.contains("8765"));
        let id = "350781199001011234";
        assert!(!mask_id_number(id).contains("19900101"));
    }

    #[test]
    fn audit_keys_hash_the_value() {
        let k = audit_key("13812345678");
        assert!(k.starts_with("sha256:") && k.len() == 7 + 64, "{k}");
        assert_eq!(k, audit_key(" 13812345678 "));
        assert!(!k.contains("5678"));
    }
}
