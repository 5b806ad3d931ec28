/*!
The console's message catalog: every string in both languages, one `(key, zh-CN, English)` row
a string, sorted by key and kept in parts by the key's first letter (a file per part, so none
outgrows the size rule). A lookup binary-searches the one part its key belongs to. A test in
[`super::i18n`] checks the order across parts, that no row is empty and that every key the
templates and pages use is here. Kept apart from the lookup code because it is data that grows
with every page.
*/

mod a_e;
mod e_x;
mod err;
mod f_z;

/// One catalog row: (key, zh-CN, English).
pub(super) type Entry = (&'static str, &'static str, &'static str);

/// The parts in key order; every key of a part sorts after every key of the part before.
pub(super) static PARTS: [&[Entry]; 4] = [a_e::ENTRIES, err::ENTRIES, e_x::ENTRIES, f_z::ENTRIES];

/// The row of `key`.
pub(super) fn lookup(key: &str) -> Option<&'static Entry> {
    let part = if key < "err." {
        PARTS[0]
    } else if key < "event." {
        PARTS[1]
    } else if key < "f" {
        PARTS[2]
    } else {
        PARTS[3]
    };
    part.binary_search_by(|(k, _, _)| k.cmp(&key))
        .ok()
        .map(|i| &part[i])
}

/// Every row, in key order.
pub(super) fn entries() -> impl Iterator<Item = &'static Entry> {
    PARTS.iter().flat_map(|p| p.iter())
}
