/*!
Format checks for the small strings a profile is full of: division codes, ids, phone numbers,
URLs, hours, language tags, ID-card numbers. Plain functions, no regex engine, each with tests.
*/

/// `n` ASCII digits exactly.
pub fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// Handling unit / platform id: lowercase ASCII letters, digits and '-', starting alphanumeric.
pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Category code: lowercase words of `[a-z0-9_]` joined by '.', starting with a letter.
pub fn is_category_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
        && s.as_bytes()[0].is_ascii_lowercase()
}

/// Tier key: lowercase letters, digits and '_', starting with a letter.
pub fn is_tier_key(s: &str) -> bool {
    !s.is_empty()
        && s.as_bytes()[0].is_ascii_lowercase()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Grid unit code: 1–32 ASCII letters, digits or '-'.
pub fn is_grid_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Mainland mobile `1[3-9]` + 9 digits.
pub fn is_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    is_digits(s, 11) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
}

/// Landline `0` + 2–3 digit area code, '-', 7–8 digit number (e.g. 0599-6332345, 010-12345678).
pub fn is_landline(s: &str) -> bool {
    let Some((area, num)) = s.split_once('-') else {
        return false;
    };
    area.starts_with('0')
        && (3..=4).contains(&area.len())
        && area.bytes().all(|b| b.is_ascii_digit())
        && (7..=8).contains(&num.len())
        && num.bytes().all(|b| b.is_ascii_digit())
}

/// Short service numbers: 3–6 digits (110, 120, 12345, 95598).
pub fn is_service_number(s: &str) -> bool {
    (3..=6).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn is_phone(s: &str) -> bool {
    is_mobile(s) || is_landline(s) || is_service_number(s)
}

pub const PHONE_HINT: &str = "write a mobile number like 13912345678, a landline like 010-12345678 or 0371-2345678 (area code, '-', number) or a 3–6 digit service number like 12345";

/// http(s) URL with a host.
pub fn is_http_url(s: &str) -> bool {
    url::Url::parse(s)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// `24/7` or `HH:MM-HH:MM`.
pub fn is_hours(s: &str) -> bool {
    if s == "24/7" {
        return true;
    }
    let hm = |t: &str| {
        let Some((h, m)) = t.split_once(':') else {
            return false;
        };
        is_digits(h, 2)
            && is_digits(m, 2)
            && h.parse::<u32>().is_ok_and(|h| h <= 24)
            && m.parse::<u32>().is_ok_and(|m| m < 60)
    };
    s.split_once('-').is_some_and(|(a, b)| hm(a) && hm(b))
}

/// A BCP 47-shaped tag such as `zh-CN`, `en`, `zh-Hans-CN`.
pub fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Resident ID number: 17 digits + check character (digit or X), with a valid GB 11643 checksum.
pub fn is_id_number(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(&d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    b[17].to_ascii_uppercase() == check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        for ok in [
            "13912345678",
            "19900000000",
            "0599-6332345",
            "010-12345678",
            "110",
            "12345",
            "95598",
        ] {
            assert!(is_phone(ok), "{ok}");
        }
        for bad in [
            "12912345678",
            "1391234567",
            "599-6332345",
            "0599-633",
            "0599 6332345",
            "12",
            "1234567",
            "FILL_IN",
            "",
        ] {
            assert!(!is_phone(bad), "{bad}");
        }
    }

    #[test]
    fn codes_ids_urls_hours_tags() {
        assert!(is_id("housing-bureau") && !is_id("Housing") && !is_id("-x") && !is_id(""));
        assert!(is_category_code("repairs.plumbing") && !is_category_code("Repairs"));
        assert!(!is_category_code("a..b") && !is_category_code("1a"));
        assert!(is_http_url("https://x.example/a") && !is_http_url("ftp://x") && !is_http_url("x"));
        assert!(is_hours("24/7") && is_hours("08:00-22:00") && !is_hours("8-22"));
        assert!(is_language_tag("zh-CN") && is_language_tag("en") && !is_language_tag("chinese"));
        assert!(is_grid_code("35078100101") && !is_grid_code("a b"));
    }

    #[test]
    fn id_number_checksum() {
        // GB 11643 example number.
        assert!(is_id_number("11010519491231002X"));
        assert!(!is_id_number("110105194912310021"));
        assert!(!is_id_number("11010519491231002"));
    }
}
