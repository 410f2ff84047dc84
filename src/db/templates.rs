//! The `templates` table: per restaurant, at most one WhatsApp template of each type.

use rusqlite::{Connection, Row, params};

use crate::domain::TemplateType;
use crate::time::now_ms;

#[derive(Debug, Clone)]
pub struct Template {
    pub restaurant_id: String,
    pub template_type: TemplateType,
    /// The template's name at Meta.
    pub name: String,
    pub language: String,
    /// `APPROVED`, `PENDING` or `REJECTED`, as Meta reviewed it.
    pub status: String,
    /// Variable names, in the order of the body's parameters.
    pub body_params: Vec<String>,
    pub button_param: Option<String>,
    pub name_fallback: String,
    pub active: bool,
    pub updated_at: i64,
}

impl Template {
    /// Only an approved, active template may be sent.
    pub fn is_sendable(&self) -> bool {
        self.status == "APPROVED" && self.active
    }
}

const COLUMNS: &str = "restaurant_id, type, name, language, status, body_params, button_param, \
     name_fallback, active, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Template> {
    let body: String = row.get(5)?;
    Ok(Template {
        restaurant_id: row.get(0)?,
        template_type: row.get(1)?,
        name: row.get(2)?,
        language: row.get(3)?,
        status: row.get(4)?,
        body_params: body
            .split(',')
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect(),
        button_param: row.get(6)?,
        name_fallback: row.get(7)?,
        active: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

/// Creates the restaurant's template of this type, or replaces it.
pub fn upsert_template(conn: &Connection, t: &Template) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO templates (restaurant_id, type, name, language, status, body_params,
                                button_param, name_fallback, active, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (restaurant_id, type) DO UPDATE SET
            name = excluded.name, language = excluded.language, status = excluded.status,
            body_params = excluded.body_params, button_param = excluded.button_param,
            name_fallback = excluded.name_fallback, active = excluded.active,
            updated_at = excluded.updated_at",
    )?
    .execute(params![
        t.restaurant_id,
        t.template_type,
        t.name,
        t.language,
        t.status,
        t.body_params.join(","),
        t.button_param,
        t.name_fallback,
        t.active,
        now_ms(),
    ])?;
    Ok(())
}

pub fn find_template(
    conn: &Connection,
    restaurant_id: &str,
    template_type: TemplateType,
) -> rusqlite::Result<Option<Template>> {
    super::optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM templates WHERE restaurant_id = ?1 AND type = ?2"
        ))?
        .query_row(params![restaurant_id, template_type], from_row),
    )
}

pub fn list_templates(conn: &Connection, restaurant_id: &str) -> rusqlite::Result<Vec<Template>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM templates WHERE restaurant_id = ?1 ORDER BY type"
    ))?;
    stmt.query_map([restaurant_id], from_row)?.collect()
}
