//! Raw SQL with typed bound values, for statements the DSL cannot say (a filter tree compiled to
//! a predicate with correlated subqueries). Values are only ever bound, never spliced into the
//! text; placeholders are written in the backend's own form.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Bool, Date, Text, Timestamp};
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use super::{Conn, MultiBackend};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum BindValue {
    Text(String),
    BigInt(i64),
    Bool(bool),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
}

impl From<i64> for BindValue {
    fn from(v: i64) -> Self {
        BindValue::BigInt(v)
    }
}

impl From<NaiveDateTime> for BindValue {
    fn from(v: NaiveDateTime) -> Self {
        BindValue::Timestamp(v)
    }
}

/// A statement being written: text with placeholders, and the values they stand for.
#[derive(Debug, Clone)]
pub struct SqlBuilder {
    sqlite: bool,
    text: String,
    binds: Vec<BindValue>,
}

impl SqlBuilder {
    /// An empty statement for the connection's backend.
    pub fn for_conn(conn: &Conn) -> Self {
        SqlBuilder::new(super::is_sqlite(conn))
    }

    pub fn new(sqlite: bool) -> Self {
        SqlBuilder { sqlite, text: String::new(), binds: Vec::new() }
    }

    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// Appends SQL text written by the program (never input).
    pub fn sql(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: BindValue) -> &mut Self {
        self.binds.push(value);
        if self.sqlite {
            self.text.push('?');
        } else {
            self.text.push_str(&format!("${}", self.binds.len()));
        }
        self
    }

    /// A placeholder bound to `value`, or a NULL typed as `sql_type` (`TEXT`, `BIGINT`) so that
    /// PostgreSQL knows a select-list NULL's type.
    pub fn bind_or_null(&mut self, value: Option<BindValue>, sql_type: &str) -> &mut Self {
        match value {
            Some(value) => self.bind(value),
            None => self.sql(&format!("CAST(NULL AS {sql_type})")),
        }
    }

    /// `(?, ?, ?)`: a parenthesised list of placeholders.
    pub fn bind_list(&mut self, values: impl IntoIterator<Item = BindValue>) -> &mut Self {
        self.text.push('(');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self.text.push(')');
        self
    }

    /// Appends another statement part written for the same backend, renumbering its placeholders.
    pub fn append(&mut self, other: &SqlBuilder) -> &mut Self {
        if self.sqlite {
            self.text.push_str(&other.text);
            self.binds.extend(other.binds.iter().cloned());
            return self;
        }
        let offset = self.binds.len();
        let mut rest = other.text.as_str();
        while let Some(at) = rest.find('$') {
            self.text.push_str(&rest[..at]);
            let digits: String = rest[at + 1..].chars().take_while(char::is_ascii_digit).collect();
            match digits.parse::<usize>() {
                Ok(n) => self.text.push_str(&format!("${}", n + offset)),
                Err(_) => self.text.push('$'),
            }
            rest = &rest[at + 1 + digits.len()..];
        }
        self.text.push_str(rest);
        self.binds.extend(other.binds.iter().cloned());
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn binds(&self) -> &[BindValue] {
        &self.binds
    }

    fn query(&self) -> BoxedSqlQuery<'static, MultiBackend, SqlQuery> {
        let mut query = diesel::sql_query(self.text.clone()).into_boxed::<MultiBackend>();
        for value in &self.binds {
            query = match value.clone() {
                BindValue::Text(v) => query.bind::<Text, _>(v),
                BindValue::BigInt(v) => query.bind::<BigInt, _>(v),
                BindValue::Bool(v) => query.bind::<Bool, _>(v),
                BindValue::Date(v) => query.bind::<Date, _>(v),
                BindValue::Timestamp(v) => query.bind::<Timestamp, _>(v),
            };
        }
        query
    }

    /// Runs the statement; answers the number of rows it changed.
    pub fn execute(&self, conn: &mut Conn) -> QueryResult<usize> {
        self.query().execute(conn)
    }

    /// Runs the query and reads its rows by column name.
    pub fn load<T>(&self, conn: &mut Conn) -> QueryResult<Vec<T>>
    where
        T: QueryableByName<MultiBackend> + 'static,
    {
        self.query().load(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_are_renumbered_when_parts_are_joined() {
        let mut a = SqlBuilder::new(false);
        a.sql("a = ").bind(BindValue::BigInt(1));
        let mut b = SqlBuilder::new(false);
        b.sql(" AND b IN ").bind_list([BindValue::BigInt(2), BindValue::BigInt(3)]).sql(" AND c = '$x'");
        a.append(&b);
        assert_eq!(a.text(), "a = $1 AND b IN ($2, $3) AND c = '$x'");
        assert_eq!(a.binds().len(), 3);
    }

    #[test]
    fn sqlite_placeholders_are_question_marks() {
        let mut a = SqlBuilder::new(true);
        a.sql("a = ").bind(BindValue::Text("x".into())).sql(" OR b IN ").bind_list([BindValue::Bool(true)]);
        assert_eq!(a.text(), "a = ? OR b IN (?)");
    }
}
