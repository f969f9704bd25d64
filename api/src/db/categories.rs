//! Work-order categories and the working-day calendar.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use minqing_protocol::Category;

use super::schema::{calendar_days, categories};
use super::{db_run, DbConn};
use crate::domain::workdays::deadline_notice;
use crate::error::ApiResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = categories)]
pub struct CategoryRow {
    pub code: String,
    pub name: String,
    pub category_group: String,
    pub default_due_working_days: i32,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl CategoryRow {
    /// The category as every reader sees it, with its default deadline in words.
    pub fn to_wire(self) -> Category {
        let days = self.default_due_working_days.max(0) as u32;
        Category {
            deadline_notice: deadline_notice(days),
            code: self.code,
            name: self.name,
            group: self.category_group,
            default_due_working_days: days,
            active: self.active,
        }
    }
}

pub fn insert(conn: &mut DbConn, row: &CategoryRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(categories::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

pub fn update(conn: &mut DbConn, row: &CategoryRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(categories::table.find(&row.code))
        .set(row)
        .execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, code: &str) -> ApiResult<Option<CategoryRow>> {
    Ok(db_run!(conn, |c| categories::table
        .find(code)
        .select(CategoryRow::as_select())
        .first(c)
        .optional())?)
}

/// Categories in code order after `after`.
pub fn list(conn: &mut DbConn, after: Option<&str>, limit: i64) -> ApiResult<Vec<CategoryRow>> {
    Ok(db_run!(conn, |c| {
        let mut q = categories::table
            .select(CategoryRow::as_select())
            .order(categories::code)
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(categories::code.gt(after));
        }
        q.load(c)
    })?)
}

pub const HOLIDAY: &str = "holiday";
pub const WORKDAY: &str = "workday";

/// Replaces one year's holidays and make-up workdays.
pub fn replace_year(
    conn: &mut DbConn,
    year: i32,
    holidays: &[NaiveDate],
    workdays: &[NaiveDate],
) -> ApiResult<()> {
    let rows: Vec<_> = holidays
        .iter()
        .map(|d| (d, HOLIDAY))
        .chain(workdays.iter().map(|d| (d, WORKDAY)))
        .map(|(d, kind)| {
            (
                calendar_days::day.eq(*d),
                calendar_days::year.eq(year),
                calendar_days::kind.eq(kind),
            )
        })
        .collect();
    conn.write(|conn| {
        db_run!(conn, |c| {
            diesel::delete(calendar_days::table.filter(calendar_days::year.eq(year))).execute(c)?;
            diesel::insert_into(calendar_days::table)
                .values(&rows)
                .execute(c)
        })?;
        Ok(())
    })
}

/// The (day, kind) exceptions of the given years.
pub fn days_of_years(conn: &mut DbConn, years: &[i32]) -> ApiResult<Vec<(NaiveDate, String)>> {
    Ok(db_run!(conn, |c| calendar_days::table
        .filter(calendar_days::year.eq_any(years))
        .order(calendar_days::day)
        .select((calendar_days::day, calendar_days::kind))
        .load(c))?)
}
