//! The words every layer shares, below storage: outcomes, sources, delivery states, suppression
//! reasons, settlements and template types, and how each closed set is stored and shown. `db/`,
//! the pipeline, the webhooks and the console all speak them without importing one another.

mod delivery;
mod outcome;
mod settlement;
mod suppression;
mod template_type;

pub use delivery::{DeliveryState, Source};
pub use outcome::Outcome;
pub use settlement::Settlement;
pub use suppression::Suppression;
pub use template_type::TemplateType;

/// `Serialize`, `ToSql` and `FromSql` for a closed set stored and shown by `as_str`.
macro_rules! stored_as_text {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl rusqlite::types::ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
            }
        }

        impl rusqlite::types::FromSql for $t {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                <$t>::ALL
                    .into_iter()
                    .find(|v| v.as_str() == text)
                    .ok_or_else(|| {
                        rusqlite::types::FromSqlError::Other(
                            format!("unknown value {text:?}").into(),
                        )
                    })
            }
        }
    };
}

pub(crate) use stored_as_text;
