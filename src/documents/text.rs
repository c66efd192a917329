//! HTML and plain-text documents: minijinja templates whose variables are the merge fields.

use std::collections::{BTreeMap, BTreeSet};

use super::DocumentError;
use crate::domain::DocumentKind;

/// What one render may spend, in minijinja's fuel: about one unit per instruction and per 64
/// bytes allocated. A letter with loops over its fields uses a few thousand; without a bound an
/// uploaded `{% for a in range(99999) %}{% for b in range(99999) %}` would hold a worker for
/// hours, and `"x" * 99999999` in a loop would exhaust memory.
pub const RENDER_FUEL: u64 = 500_000;

/// The template environment documents are parsed (and later rendered) with: HTML escapes
/// what it merges, plain text does not; every render is bounded by [`RENDER_FUEL`].
pub fn environment(kind: DocumentKind) -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_fuel(Some(RENDER_FUEL));
    let escape =
        if kind == DocumentKind::Html { minijinja::AutoEscape::Html } else { minijinja::AutoEscape::None };
    env.set_auto_escape_callback(move |_| escape.clone());
    env
}

/// The variables the template reads from outside (its merge fields), each once, sorted.
/// Names the template sets itself and the environment's functions (`range`, ...) are not fields.
pub fn merge_fields(kind: DocumentKind, bytes: &[u8]) -> Result<Vec<String>, DocumentError> {
    let env = environment(kind);
    let template = parse(&env, bytes)?;
    Ok(fields(&env, &template).into_iter().collect())
}

/// Checks an uploaded template: its merge fields, and that it renders within the bounds when
/// every field holds a long value, so that a template that cannot render is refused at upload
/// instead of failing each line it is merged for.
pub fn check(kind: DocumentKind, bytes: &[u8]) -> Result<Vec<String>, DocumentError> {
    let fields = merge_fields(kind, bytes)?;
    let sample = "x".repeat(SAMPLE_VALUE_CHARS);
    render(kind, bytes, |_| Some(sample.as_str()))?;
    Ok(fields)
}

/// The length of the sample value each field holds in [`check`]'s trial render: longer than
/// any contact or line field.
const SAMPLE_VALUE_CHARS: usize = 250;

/// Renders a template, each merge field with the value `value_of` gives it; a field without a
/// value renders as the empty string (so filters apply to it too), never as an error.
pub fn render<'v>(
    kind: DocumentKind,
    bytes: &[u8],
    value_of: impl Fn(&str) -> Option<&'v str>,
) -> Result<String, DocumentError> {
    let env = environment(kind);
    let template = parse(&env, bytes)?;
    let context: BTreeMap<String, String> = fields(&env, &template)
        .into_iter()
        .map(|name| {
            let value = value_of(&name).unwrap_or_default().to_owned();
            (name, value)
        })
        .collect();
    template
        .render(context)
        .map_err(|e| DocumentError::InvalidTemplate(format!("the document cannot be rendered: {e}")))
}

fn parse<'s>(
    env: &'s minijinja::Environment<'static>,
    bytes: &'s [u8],
) -> Result<minijinja::Template<'s, 's>, DocumentError> {
    let source = std::str::from_utf8(bytes).map_err(|e| {
        DocumentError::InvalidUtf8(format!("the document is not valid UTF-8 (at byte {})", e.valid_up_to()))
    })?;
    env.template_from_str(source)
        .map_err(|e| DocumentError::InvalidTemplate(format!("the document is not a valid template: {e}")))
}

/// The variables a template reads from outside, less the environment's globals (`range`).
fn fields(env: &minijinja::Environment<'_>, template: &minijinja::Template<'_, '_>) -> BTreeSet<String> {
    let globals: BTreeSet<&str> = env.globals().map(|(name, _)| name).collect();
    template.undeclared_variables(false).into_iter().filter(|name| !globals.contains(name.as_str())).collect()
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
    fn templates_that_compute_or_allocate_without_bound_are_refused_at_upload() {
        for source in [
            "{% for a in range(99999) %}{% for b in range(99999) %}x{% endfor %}{% endfor %}",
            "{% for a in range(99999) %}{{ 'x' * 99999999 }}{% endfor %}",
            "{% for a in range(99999) %}{{ contact_name * 99999 }}{% endfor %}",
        ] {
            let refused = check(DocumentKind::Html, source.as_bytes());
            assert!(matches!(refused, Err(DocumentError::InvalidTemplate(_))), "{source}: {refused:?}");
        }
        let letter = "Dear {{ contact_name }},{% for i in range(200) %} {{ i }}{{ segment_no }}{% endfor %}";
        assert_eq!(check(DocumentKind::Html, letter.as_bytes()).unwrap(), ["contact_name", "segment_no"]);
    }

    #[test]
    fn invalid_utf8_and_broken_templates_are_refused() {
        assert!(matches!(merge_fields(DocumentKind::Text, b"abc\xff"), Err(DocumentError::InvalidUtf8(_))));
        assert!(matches!(
            merge_fields(DocumentKind::Text, b"{{ contact_name"),
            Err(DocumentError::InvalidTemplate(_))
        ));
    }

    #[test]
    fn rendering_escapes_html_and_renders_missing_values_empty() {
        let values = |name: &str| (name == "contact_name").then_some("Ann <&> \"Co\"");
        let source =
            b"<p>{{ contact_name }}|{{ segment_no }}|{{ segment_no|upper }}|{{ contact_name|upper }}</p>";
        assert_eq!(
            render(DocumentKind::Html, source, values).unwrap(),
            "<p>Ann &lt;&amp;&gt; &quot;Co&quot;|||ANN &lt;&amp;&gt; &quot;CO&quot;</p>"
        );
        assert_eq!(
            render(DocumentKind::Text, source, values).unwrap(),
            "<p>Ann <&> \"Co\"|||ANN <&> \"CO\"</p>"
        );
        assert!(matches!(
            render(DocumentKind::Text, b"{{ contact_name|no_such_filter }}", values),
            Err(DocumentError::InvalidTemplate(_))
        ));
    }
}
