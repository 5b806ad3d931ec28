/*!
Masking of personal numbers, and which roles may see them in full.

Phone numbers keep their first 3 and last 4 digits (`138****5678`); ID numbers keep their first
6 (the division code) and last 4 (`350781********1234`). Masking happens at the edges (API
responses, console pages, exports); the database keeps the full value so the roles that need it
can still call a citizen back. Reads of vulnerable-household records are audited whatever the
role (see [`crate::store::audit`]).
*/

use crate::auth::Role;

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

/// Whether `role` sees callers' phone numbers in full: the people who call citizens back or
/// must reach them on the ground.
pub fn sees_caller_phone(role: Role) -> bool {
    matches!(
        role,
        Role::Admin
            | Role::Supervisor
            | Role::Operator
            | Role::Dispatcher
            | Role::UnitHandler
            | Role::GridWorker
    )
}

/// How a role may see the vulnerable-household registry (困难群体).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HouseholdAccess {
    /// Not at all.
    None,
    /// Records with phone and ID numbers masked.
    Masked,
    /// Full records (still audited).
    Full,
}

/// Household access per role — the one policy the API and the console both apply: grid workers
/// and supervisors care for these households, admins maintain the registry; operators and
/// dispatchers see masked records to route requests. Handling units get the case, not the
/// registry: the center tells them what they need in the dispatch note.
pub fn household_access(role: Role) -> HouseholdAccess {
    match role {
        Role::Admin | Role::Supervisor | Role::GridWorker => HouseholdAccess::Full,
        Role::Operator | Role::Dispatcher => HouseholdAccess::Masked,
        Role::UnitHandler | Role::Analyst | Role::Auditor => HouseholdAccess::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn access_policy() {
        assert!(sees_caller_phone(Role::Operator));
        assert!(!sees_caller_phone(Role::Analyst));
        assert_eq!(household_access(Role::GridWorker), HouseholdAccess::Full);
        assert_eq!(household_access(Role::Operator), HouseholdAccess::Masked);
        assert_eq!(household_access(Role::Auditor), HouseholdAccess::None);
        assert_eq!(household_access(Role::UnitHandler), HouseholdAccess::None);
    }
}
