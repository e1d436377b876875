//! The four SQL dialects `proviso compile` writes, and the few spellings in
//! which they differ.
//!
//! The compiler writes one statement shape for every dialect and asks this
//! module only for the pieces whose spelling differs (a string literal's
//! escapes, integer division, a regular-expression test, days since
//! 1970-01-01, milliseconds since the epoch). Everything else is the SQL
//! the four share: `CASE`, `COALESCE`, `SUBSTR`, `LENGTH`, `LPAD`,
//! `REVERSE`, `TRANSLATE`, `CAST`, `LIKE … ESCAPE`, `UNION ALL`. The design
//! choice: timestamps are turned into integers (milliseconds, days) as
//! soon as they are read, and every date and period is computed with
//! integer arithmetic, so that no answer depends on a session time zone or
//! on a dialect's own reading of a timestamp string.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dialect {
    /// Apache Spark SQL 3.4+ (also Databricks)
    Spark,
    /// Trino, and Amazon Athena (engine version 3)
    Trino,
    /// DuckDB 1.x
    Duckdb,
    /// Apache DataFusion 40+
    Datafusion,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Spark => "spark",
            Dialect::Trino => "trino",
            Dialect::Duckdb => "duckdb",
            Dialect::Datafusion => "datafusion",
        }
    }

    /// A string literal. Spark reads `\` in a literal as an escape, so it
    /// is doubled there, and a quote is written `\'`; the others take the
    /// standard `''` and no backslash escapes.
    pub fn string(self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('\'');
        for c in s.chars() {
            match (self, c) {
                (Dialect::Spark, '\\') => out.push_str("\\\\"),
                (Dialect::Spark, '\'') => out.push_str("\\'"),
                (_, '\'') => out.push_str("''"),
                (_, c) => out.push(c),
            }
        }
        out.push('\'');
        out
    }

    /// A quoted identifier (a column or CTE name).
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// The name of the string type.
    pub fn text_type(self) -> &'static str {
        match self {
            Dialect::Spark => "STRING",
            _ => "VARCHAR",
        }
    }

    /// `CAST(x AS <text>)`.
    pub fn to_text(self, x: &str) -> String {
        format!("CAST({x} AS {})", self.text_type())
    }

    /// A cast that answers NULL instead of failing.
    pub fn try_cast(self, x: &str, ty: &str) -> String {
        match self {
            Dialect::Spark => format!("try_cast({x} AS {ty})"),
            _ => format!("TRY_CAST({x} AS {ty})"),
        }
    }

    /// Integer division of two non-negative BIGINTs (truncating, which is
    /// flooring for them).
    pub fn idiv(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Duckdb => format!("({a} // {b})"),
            Dialect::Spark => format!("({a} DIV {b})"),
            Dialect::Trino | Dialect::Datafusion => format!("({a} / {b})"),
        }
    }

    /// Whether `pattern` (a regular expression in the dialect's own
    /// syntax, as [`super::regex`] writes it) matches anywhere in `x`.
    pub fn regex_like(self, x: &str, pattern: &str) -> String {
        let p = self.string(pattern);
        match self {
            Dialect::Duckdb => format!("regexp_matches({x}, {p})"),
            Dialect::Spark => format!("({x} RLIKE {p})"),
            Dialect::Trino | Dialect::Datafusion => format!("regexp_like({x}, {p})"),
        }
    }

    /// The 1-based position of the literal `needle` in `x` (0 if absent).
    pub fn position(self, x: &str, needle: &str) -> String {
        let n = self.string(needle);
        match self {
            Dialect::Spark => format!("instr({x}, {n})"),
            _ => format!("strpos({x}, {n})"),
        }
    }

    /// `x LIKE pattern`, where `\` escapes `%`, `_` and itself.
    pub fn like(self, x: &str, pattern: &str) -> String {
        let p = self.string(pattern);
        match self {
            // `\` is Spark's default escape character.
            Dialect::Spark => format!("({x} LIKE {p})"),
            _ => format!("({x} LIKE {p} ESCAPE '\\')"),
        }
    }

    /// Days since 1970-01-01 of a DATE value, as a BIGINT.
    pub fn epoch_day(self, d: &str) -> String {
        match self {
            Dialect::Duckdb => format!("CAST(date_diff('day', DATE '1970-01-01', {d}) AS BIGINT)"),
            Dialect::Spark => format!("CAST(unix_date({d}) AS BIGINT)"),
            Dialect::Trino => format!("date_diff('day', DATE '1970-01-01', {d})"),
            Dialect::Datafusion => format!("CAST(CAST({d} AS INT) AS BIGINT)"),
        }
    }

    /// Milliseconds since the epoch of a TIMESTAMP value (an instant, or a
    /// wall-clock time read as UTC), truncating finer units; no session
    /// time zone enters.
    pub fn epoch_ms(self, ts: &str, zone: super::schema::Zone) -> String {
        use super::schema::Zone;
        let naive = match (self, zone) {
            (_, Zone::Naive) => true,
            (_, Zone::Instant) => false,
            // What each calls `TIMESTAMP`.
            (Dialect::Spark, Zone::Dialect) => false,
            (_, Zone::Dialect) => true,
        };
        match (self, naive) {
            // Spark's TIMESTAMP_NTZ has no epoch function, and a cast to
            // TIMESTAMP would read it in the session's zone: its wall-clock
            // parts are added up instead.
            (Dialect::Spark, true) => {
                return format!(
                    "(CAST(unix_date(CAST({ts} AS DATE)) AS BIGINT) * 86400000 + hour({ts}) * 3600000 \
                     + minute({ts}) * 60000 + CAST(FLOOR(EXTRACT(SECOND FROM {ts}) * 1000) AS BIGINT))"
                );
            }
            (Dialect::Trino, true) => {
                return format!("date_diff('millisecond', TIMESTAMP '1970-01-01 00:00:00', {ts})");
            }
            _ => {}
        }
        match self {
            // (DuckDB's `epoch_ms` rounds to the nearest millisecond:
            // `23:59:59.999999` would be the next day.)
            Dialect::Duckdb => format!("(epoch_us({ts}) // 1000)"),
            Dialect::Spark => format!("unix_millis({ts})"),
            Dialect::Trino => format!("date_diff('millisecond', from_unixtime(0), {ts})"),
            Dialect::Datafusion => {
                format!("CAST(arrow_cast({ts}, 'Timestamp(Millisecond, None)') AS BIGINT)")
            }
        }
    }

    /// The DATE `n` days after 1970-01-01 (`n` a BIGINT).
    pub fn date_of_day(self, n: &str) -> String {
        match self {
            Dialect::Duckdb => format!("(DATE '1970-01-01' + CAST({n} AS INTEGER))"),
            Dialect::Spark => format!("date_from_unix_date(CAST({n} AS INT))"),
            Dialect::Trino => format!("date_add('day', {n}, DATE '1970-01-01')"),
            Dialect::Datafusion => format!("CAST(CAST({n} AS INT) AS DATE)"),
        }
    }

    /// The rows of `src`, each once per item of `items` (an array of
    /// BIGINTs built per row), with the item as column `alias`: the
    /// statement's one filter reads such a column (`alias IS NOT NULL`).
    ///
    /// The filter is not written on the outcome columns themselves: an
    /// optimizer pushes a filter down through every step of the chain,
    /// replacing each column by its definition, and the steps read their
    /// columns several times each, so the filter grew into an expression
    /// exponential in the chain's depth (DataFusion's plan held a 100 KB
    /// predicate for one clause; Spark ran out of heap). No engine pushes a
    /// filter on an unnested column below the unnest.
    pub fn unnest_rows(self, src: &str, items: &[String], alias: &str) -> String {
        let list = items.join(", ");
        match self {
            Dialect::Duckdb => format!("(SELECT *, UNNEST([{list}]) AS {alias} FROM {src})"),
            Dialect::Datafusion => {
                format!("(SELECT *, unnest(make_array({list})) AS {alias} FROM {src})")
            }
            Dialect::Spark => format!("(SELECT *, explode(array({list})) AS {alias} FROM {src})"),
            Dialect::Trino => format!(
                "(SELECT {src}.*, {u}.{alias} FROM {src} CROSS JOIN UNNEST(ARRAY[{list}]) AS {u}({alias}))",
                u = self.ident("__pv_n")
            ),
        }
    }

    /// A non-negative BIGINT in lower-case hex, without leading zeros.
    pub fn hex(self, n: &str) -> String {
        match self {
            Dialect::Duckdb => format!("lower(printf('%x', {n}))"),
            Dialect::Spark => format!("lower(hex({n}))"),
            Dialect::Trino => format!("format('%x', {n})"),
            Dialect::Datafusion => format!("to_hex({n})"),
        }
    }

    /// A struct's child field.
    pub fn struct_field(self, x: &str, name: &str) -> String {
        match self {
            Dialect::Datafusion => format!("get_field({x}, {})", self.string(name)),
            _ => format!("{x}.{}", self.ident(name)),
        }
    }

    /// The type of an exact decimal with `scale` places.
    pub fn decimal(self, scale: u32) -> String {
        format!("DECIMAL(38, {scale})")
    }
}
