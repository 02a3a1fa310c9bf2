//! A small builder for dynamic queries with bound parameters.
//!
//! sqlx's `QueryBuilder<Any>` writes `?` placeholders, which PostgreSQL rejects; this one writes `$n`,
//! which both SQLite and PostgreSQL accept. Values are always bound, never spliced into the text.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(i64),
    Text(String),
    OptInt(Option<i64>),
    OptText(Option<String>),
}

#[derive(Debug, Default)]
pub struct SqlBuilder {
    sql: String,
    params: Vec<Param>,
}

impl SqlBuilder {
    pub fn new(sql: &'static str) -> Self {
        SqlBuilder {
            sql: sql.to_string(),
            params: Vec::new(),
        }
    }

    /// Appends trusted SQL text (only ever literals written in this crate).
    pub fn push(&mut self, sql: &'static str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: Param) -> &mut Self {
        self.params.push(value);
        self.sql.push_str(&format!("${}", self.params.len()));
        self
    }

    /// Binds `value` as the next parameter without writing its placeholder: a value used several
    /// times is bound once and written with [`placeholder`](Self::placeholder).
    pub fn declare(&mut self, value: Param) -> usize {
        self.params.push(value);
        self.params.len()
    }

    /// Writes the placeholder of parameter `n` (1-based), bound earlier.
    pub fn placeholder(&mut self, n: usize) -> &mut Self {
        debug_assert!(n >= 1 && n <= self.params.len());
        self.sql.push_str(&format!("${n}"));
        self
    }

    pub fn param_count(&self) -> usize {
        self.params.len()
    }

    pub fn bind_int(&mut self, v: i64) -> &mut Self {
        self.bind(Param::Int(v))
    }

    pub fn bind_text(&mut self, v: impl Into<String>) -> &mut Self {
        self.bind(Param::Text(v.into()))
    }

    pub fn bind_opt_int(&mut self, v: Option<i64>) -> &mut Self {
        self.bind(Param::OptInt(v))
    }

    pub fn bind_opt_text(&mut self, v: Option<String>) -> &mut Self {
        self.bind(Param::OptText(v))
    }

    /// Appends another builder's SQL and parameters, renumbering its placeholders.
    pub fn push_sql(&mut self, other: SqlBuilder) -> &mut Self {
        let offset = self.params.len();
        let mut rest = other.sql.as_str();
        while let Some(pos) = rest.find('$') {
            self.sql.push_str(&rest[..pos]);
            let digits: String = rest[pos + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if digits.is_empty() {
                self.sql.push('$');
            } else {
                let n: usize = digits.parse().unwrap_or(0);
                self.sql.push_str(&format!("${}", n + offset));
            }
            rest = &rest[pos + 1 + digits.len()..];
        }
        self.sql.push_str(rest);
        self.params.extend(other.params);
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn build(self) -> Query<'static, Any, AnyArguments> {
        let mut q = sqlx::query(AssertSqlSafe(self.sql));
        for p in self.params {
            q = match p {
                Param::Int(v) => q.bind(v),
                Param::Text(v) => q.bind(v),
                Param::OptInt(v) => q.bind(v),
                Param::OptText(v) => q.bind(v),
            };
        }
        q
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_contains(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_placeholders_and_escaped_patterns() {
        let mut b = SqlBuilder::new("SELECT id FROM users WHERE 1 = 1");
        b.push(" AND db = ")
            .bind_text("nanbyo")
            .push(" AND id > ")
            .bind_int(3);
        assert_eq!(
            b.sql(),
            "SELECT id FROM users WHERE 1 = 1 AND db = $1 AND id > $2"
        );
        assert_eq!(like_contains("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
