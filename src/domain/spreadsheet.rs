//! Cells for Excel: what a CSV export must neutralise (DESIGN §9: formula injection).

/// Characters that make Excel treat a cell as a formula (or that hide one).
pub const FORMULA_PREFIXES: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

pub fn looks_like_formula(cell: &str) -> bool {
    cell.starts_with(FORMULA_PREFIXES)
}

/// A cell safe to open in Excel: a leading formula character is escaped with a single quote.
pub fn neutralise(cell: &str) -> String {
    if looks_like_formula(cell) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_escaped() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+81"), "'+81");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("@SUM"), "'@SUM");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("髙橋"), "髙橋");
        assert_eq!(neutralise("03-1234-5678"), "03-1234-5678");
    }
}
