/*!
Diagnostics: what `m110 validate` prints for a broken profile.

Every problem, whatever stage found it (reading, YAML syntax, structure, semantics, CSV files),
becomes one [`Diagnostic`] naming the file, the 1-based line and column of the offending value,
the field path (`grid.units[3].parent`), what is wrong and how to fix it. Loading collects them
all instead of stopping at the first, so a county team fixes a profile in one pass.
*/

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a profile (or in a file it references).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based line (1 when the problem concerns the file as a whole: missing, unreadable).
    pub line: usize,
    /// 1-based column (1 for whole-file problems).
    pub col: usize,
    /// Field path such as `grid.units[3].parent`; empty for whole-file problems.
    pub field: String,
    pub message: String,
    pub hint: String,
}

impl Diagnostic {
    pub fn new(
        file: &Path,
        (line, col): (usize, usize),
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            file: file.to_path_buf(),
            line,
            col,
            field: field.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// The line `validate` and `plan` print for a warning: `FILE:LINE:COL: warning: field: …`,
    /// the position first as compilers write it, so editors jump to it.
    pub fn warning_line(&self) -> String {
        let mut s = format!(
            "{}:{}:{}: warning 警告: ",
            self.file.display(),
            self.line,
            self.col
        );
        if !self.field.is_empty() {
            s.push_str(&self.field);
            s.push_str(": ");
        }
        s.push_str(&self.message);
        if !self.hint.is_empty() {
            s.push_str(&format!(" (hint: {})", self.hint));
        }
        s
    }

    /// A problem with the file as a whole (missing, too large, not UTF-8 …).
    pub fn file_level(
        file: &Path,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Diagnostic {
        // 1:1 rather than 0:0 so editors and `FILE:LINE:COL` parsers accept every line.
        Diagnostic::new(file, (1, 1), "", message, hint)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.col)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        write!(f, "{}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, " (hint: {})", self.hint)?;
        }
        Ok(())
    }
}

/// All problems found while loading one profile, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Sorts by file, line, column (stable, so same-position problems keep discovery order).
    pub fn sort(&mut self) {
        self.0
            .sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_format_is_file_line_col_field_message_hint() {
        let d = Diagnostic::new(
            Path::new("p.yaml"),
            (3, 7),
            "grid.units[0].parent",
            "unknown parent `1`",
            "use a code listed in grid.units",
        );
        assert_eq!(
            d.to_string(),
            "p.yaml:3:7: grid.units[0].parent: unknown parent `1` (hint: use a code listed in grid.units)"
        );
        let all = Diagnostics(vec![d.clone(), d]);
        assert_eq!(all.to_string().lines().count(), 2);
    }
}
