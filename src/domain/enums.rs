//! Enumerations stored as text in both databases. Each is a diesel type: reading a stored
//! value no migration allows is an error, never a silent default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a wire enum with its stored text form.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, AsExpression, FromSqlRow,
        )]
        #[diesel(sql_type = Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and wire text of the value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The text back to the value (None for text no migration allows).
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB> FromSql<Text, DB> for $name
        where
            DB: Backend,
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                $name::parse(&text)
                    .ok_or_else(|| format!("unknown {} {text:?} stored in the database", stringify!($name)).into())
            }
        }

        impl<DB> ToSql<Text, DB> for $name
        where
            DB: Backend,
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }
    };
}

text_enum!(
    /// A company, or a person (who may belong to a company).
    ContactType { Company => "company", Person => "person" }
);

text_enum!(
    /// How an interaction reaches the contact.
    CorrespondenceType { HardCopy => "hard_copy", Email => "email" }
);

text_enum!(
    /// Whether information went out to the contact or came in from them.
    InformationFlow { Outbound => "outbound", Inbound => "inbound" }
);

text_enum!(
    /// Who started the interaction.
    InitiatedBy { Us => "us", Them => "them" }
);

text_enum!(
    /// How an interaction went.
    Evaluation {
        VeryPositive => "very_positive",
        Positive => "positive",
        Neutral => "neutral",
        Negative => "negative",
        VeryNegative => "very_negative",
    }
);

text_enum!(
    /// Whether a segment can still change.
    SegmentStatus { Open => "open", Logged => "logged" }
);

text_enum!(
    /// What a key may do; each scope includes the ones below it.
    #[derive(PartialOrd, Ord, clap::ValueEnum)]
    ApiScope { Read => "read", Write => "write", Admin => "admin" }
);

text_enum!(
    /// What a criteria action did to the segment's lines.
    CriteriaActionKind { Add => "add", Remove => "remove", Refine => "refine", Refresh => "refresh" }
);

text_enum!(
    /// Where a criteria action came from: a filter sent by the client, replayed saved criteria,
    /// a reused logged segment, or a refresh of the segment's own actions.
    CriteriaActionSource {
        Filter => "filter",
        SavedCriteria => "saved_criteria",
        LoggedSegment => "logged_segment",
        Refresh => "refresh",
    }
);

text_enum!(
    /// Where delivery of an interaction stands.
    DeliveryStatus { NotApplicable => "not_applicable", Pending => "pending", Sent => "sent", Failed => "failed" }
);

text_enum!(
    /// What kind of file a template document is: a Word package, an HTML or a plain text body.
    DocumentKind { Docx => "docx", Html => "html", Text => "text" }
);
