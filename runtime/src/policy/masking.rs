/*!
Masking of personal data — one function per kind of value, used by every front-end and export.
Which roles see a value unmasked is [`super::access`].

Phone numbers keep their first 3 and last 4 digits (`138****5678`); ID numbers keep their first
6 (the division code) and last 4 (`350781********1234`). Masking happens at the edges (API
responses, console pages, exports); the database keeps the full value so the roles that need it
can still call a citizen back. Reads of vulnerable-household records are audited whatever the
role (see `store::audit`).
*/

/// `13812345678` → `138****5678`. Numbers shorter than 8 characters keep only their last 2
/// (`5551234` → `*****34`); empty stays empty.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    if n >= 8 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        let keep = n.min(2).min(n.saturating_sub(1));
        let tail: String = chars[n - keep..].iter().collect();
        format!("{}{tail}", "*".repeat(n - keep))
    }
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
    if p.starts_with('0') && (10..=12).contains(&n) {
        let area = if p.starts_with("010") || p.starts_with("02") {
            3
        } else {
            4
        };
        return format!("{}-{}", &p[..area], &p[area..]);
    }
    if (p.starts_with("400") || p.starts_with("800")) && n == 10 {
        return format!("{}-{}-{}", &p[..3], &p[3..6], &p[6..]);
    }
    p.to_string()
}

/// [`mask_phone`] of the [`display_phone`] form: a landline keeps its area code
/// (`0371-****1234`), so a call-taker still sees where a masked caller is.
pub fn mask_display_phone(phone: &str) -> String {
    let shown = display_phone(phone);
    match shown.split_once('-') {
        Some((area, rest)) if rest.len() >= 5 => {
            format!("{area}-****{}", &rest[rest.len() - 4..])
        }
        _ => mask_phone(&shown),
    }
}

/// `350781199001011234` → `350781********1234`: keeps the first 6 and last 4 characters and
/// masks each character between. Numbers shorter than 11 characters keep only their last 2.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    if n >= 11 {
        let head: String = chars[..6].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(n - 10))
    } else {
        let keep = n.min(2).min(n.saturating_sub(1));
        let tail: String = chars[n - keep..].iter().collect();
        format!("{}{tail}", "*".repeat(n - keep))
    }
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
        assert_eq!(mask_display_phone("13800138000"), "138****8000");
    }

    #[test]
    fn masks_mobile_numbers() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone(" 13812345678 "), "138****5678");
        assert_eq!(mask_phone("0599-7654321"), "059****4321");
        assert_eq!(mask_phone("5551234"), "*****34");
        assert_eq!(mask_phone("12"), "*2");
        assert_eq!(mask_phone("7"), "*");
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
        assert_eq!(mask_id_number("350781199001011234"), "350781********1234");
        assert_eq!(mask_id_number("35078119900101123X"), "350781********123X");
        assert_eq!(mask_id_number("350781900101123"), "350781*****1123");
        assert_eq!(mask_id_number("1234567"), "*****67");
    }

    #[test]
    fn masked_values_never_contain_the_middle_digits() {
        let phone = "13987654321";
        let masked = mask_phone(phone);
        assert!(!masked.contains("8765"));
        let id = "350781199001011234";
        assert!(!mask_id_number(id).contains("19900101"));
    }
}
