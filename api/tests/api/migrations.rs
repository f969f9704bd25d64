//! The SQLite and PostgreSQL migrations must give the same tables, columns, types and nullability.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use minqing_api::db::Db;
use minqing_e2e::TestDatabase;

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Integer)]
    nullable: i32,
}

/// Maps each backend's type names onto one vocabulary.
fn family(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "text" | "character varying" => "text",
        "integer" | "int" => "integer",
        "bigint" => "bigint",
        "double" | "double precision" | "real" => "double",
        "boolean" => "bool",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "date" => "date",
        "blob" | "bytea" => "bytes",
        other => return format!("unknown:{other}"),
    }
    .to_string()
}

type Schema = BTreeMap<String, BTreeMap<String, (String, bool)>>;

fn collect(columns: Vec<Column>) -> Schema {
    let mut schema = Schema::new();
    for c in columns {
        if c.table_name.starts_with("__diesel") {
            continue;
        }
        schema
            .entry(c.table_name)
            .or_default()
            .insert(c.column_name, (family(&c.data_type), c.nullable != 0));
    }
    schema
}

#[test]
#[ignore = "needs PostgreSQL: run with MINQING_TEST_POSTGRES set and --include-ignored (as .ci/run does)"]
fn sqlite_and_postgres_migrations_are_equivalent() {
    let server = minqing_e2e::postgres_server()
        .expect("MINQING_TEST_POSTGRES must name a PostgreSQL server for this test");
    let sqlite = TestDatabase::sqlite();
    let postgres = TestDatabase::postgres(&server);
    Db::connect(&sqlite.url, 1).unwrap().migrate().unwrap();
    Db::connect(&postgres.url, 1).unwrap().migrate().unwrap();

    let sqlite_path = sqlite.url.trim_start_matches("sqlite://");
    let mut conn = SqliteConnection::establish(sqlite_path).unwrap();
    let sqlite_columns: Vec<Column> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
                CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 0 ELSE 1 END AS nullable \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .load(&mut conn)
    .unwrap();

    let mut conn = PgConnection::establish(&postgres.url).unwrap();
    let pg_columns: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, \
                CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END AS nullable \
         FROM information_schema.columns WHERE table_schema = current_schema()",
    )
    .load(&mut conn)
    .unwrap();

    let sqlite_schema = collect(sqlite_columns);
    let pg_schema = collect(pg_columns);
    assert!(sqlite_schema.len() >= 5, "{sqlite_schema:?}");
    assert!(
        !sqlite_schema
            .values()
            .flatten()
            .any(|(_, (t, _))| t.starts_with("unknown")),
        "{sqlite_schema:?}"
    );
    assert_eq!(sqlite_schema, pg_schema);
}
