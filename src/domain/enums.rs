//! Enumerations shared by several resources, stored as text in both databases.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a wire enum with its stored text form.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The stored text back to the value (None for text no migration allows).
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
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
