//! HTML and plain-text documents: minijinja templates whose variables are the merge fields.

use std::collections::BTreeSet;

use super::DocumentError;
use crate::domain::DocumentKind;

/// The template environment documents are parsed (and later rendered) with: HTML escapes
/// what it merges, plain text does not.
pub fn environment(kind: DocumentKind) -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    let escape =
        if kind == DocumentKind::Html { minijinja::AutoEscape::Html } else { minijinja::AutoEscape::None };
    env.set_auto_escape_callback(move |_| escape.clone());
    env
}

/// The variables the template reads from outside (its merge fields), each once, sorted.
/// Names the template sets itself and the environment's functions (`range`, ...) are not fields.
pub fn merge_fields(kind: DocumentKind, bytes: &[u8]) -> Result<Vec<String>, DocumentError> {
    let source = std::str::from_utf8(bytes).map_err(|e| {
        DocumentError::InvalidUtf8(format!("the document is not valid UTF-8 (at byte {})", e.valid_up_to()))
    })?;
    let env = environment(kind);
    let template = env
        .template_from_str(source)
        .map_err(|e| DocumentError::InvalidTemplate(format!("the document is not a valid template: {e}")))?;
    let globals: BTreeSet<&str> = env.globals().map(|(name, _)| name).collect();
    let names: BTreeSet<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| !globals.contains(name.as_str()))
        .collect();
    Ok(names.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_variables_are_the_fields_and_local_names_are_not() {
        let source = "Dear {{ contact_name }}, {% set x = 1 %}{{ x }} {% for i in range(2) %}{{ i }}{{ segment_no }}{% endfor %}{{ contact_name|upper }}";
        assert_eq!(
            merge_fields(DocumentKind::Html, source.as_bytes()).unwrap(),
            vec!["contact_name".to_owned(), "segment_no".to_owned()]
        );
    }

    #[test]
    fn invalid_utf8_and_broken_templates_are_refused() {
        assert!(matches!(merge_fields(DocumentKind::Text, b"abc\xff"), Err(DocumentError::InvalidUtf8(_))));
        assert!(matches!(
            merge_fields(DocumentKind::Text, b"{{ contact_name"),
            Err(DocumentError::InvalidTemplate(_))
        ));
    }
}
