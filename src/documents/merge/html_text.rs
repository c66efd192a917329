//! The plain-text alternative of an HTML email body, read with a small tag scanner: an email
//! body needs paragraphs, line breaks, link targets and entities, not a browser's HTML parser.

/// The plain-text alternative of an HTML body for a multipart/alternative email: paragraphs and
/// blocks become line breaks (a blank line between paragraphs), `<br>` a line break, a link
/// keeps its URL after its text, list items start with "- ", entities are decoded, and
/// `script`, `style` and `head` are dropped. Other whitespace collapses as a browser shows it.
pub fn html_to_text(html: &str) -> String {
    let mut text = PlainText::default();
    let mut links: Vec<(String, usize)> = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push(&decode_entities(&rest[..open]));
        rest = &rest[open..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some(tag) = Tag::read(rest) else {
            // A `<` that starts no tag is text.
            text.push("<");
            rest = &rest[1..];
            continue;
        };
        rest = &rest[tag.length..];
        match (tag.name.as_str(), tag.closing) {
            ("script" | "style" | "head" | "template", false) => rest = after_closing_tag(rest, &tag.name),
            ("br", _) => text.line_break(1),
            (
                "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "table" | "blockquote" | "pre"
                | "hr",
                _,
            ) => {
                text.line_break(2);
                if tag.name == "pre" {
                    text.preformatted = !tag.closing;
                }
            }
            ("li", false) => {
                text.line_break(1);
                text.push_word("- ");
            }
            (
                "div" | "li" | "tr" | "dl" | "dt" | "dd" | "section" | "article" | "header" | "footer"
                | "address",
                _,
            ) => {
                text.line_break(1);
            }
            ("td" | "th", true) => text.push(" "),
            ("img", _) => text.push(&tag.attribute("alt").unwrap_or_default()),
            ("a", false) => links.push((tag.attribute("href").unwrap_or_default(), text.len())),
            ("a", true) => {
                if let Some((href, start)) = links.pop() {
                    let label = text.since(start).trim().to_owned();
                    let shown = href.strip_prefix("mailto:").unwrap_or(&href);
                    if !shown.is_empty() && !href.starts_with('#') && label != shown {
                        text.push_word(&format!(" <{shown}>"));
                    }
                }
            }
            _ => {}
        }
    }
    text.push(&decode_entities(rest));
    text.finish()
}

/// The text after `</name>`, or nothing when it is not closed.
fn after_closing_tag<'a>(html: &'a str, name: &str) -> &'a str {
    let lower = html.to_ascii_lowercase();
    let closing = format!("</{name}");
    match lower.find(&closing) {
        Some(at) => html[at..].find('>').map_or("", |end| &html[at + end + 1..]),
        None => "",
    }
}

/// A tag read at the start of a text: its lower-cased name, whether it closes, its attributes'
/// source, and its length including `<` and `>`.
struct Tag<'a> {
    name: String,
    closing: bool,
    attributes: &'a str,
    length: usize,
}

impl<'a> Tag<'a> {
    fn read(html: &'a str) -> Option<Tag<'a>> {
        let inner = html.strip_prefix('<')?;
        let (closing, inner) = match inner.strip_prefix('/') {
            Some(inner) => (true, inner),
            None => (false, inner),
        };
        let first = inner.chars().next()?;
        if !(first.is_ascii_alphabetic() || (first == '!' || first == '?')) {
            return None;
        }
        let mut quote = None;
        let end = inner.char_indices().find_map(|(at, c)| {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => return Some(at),
                _ => {}
            }
            None
        })?;
        let body = &inner[..end];
        let name_end =
            body.find(|c: char| !c.is_ascii_alphanumeric() && c != '!' && c != '?').unwrap_or(body.len());
        Some(Tag {
            name: body[..name_end].to_ascii_lowercase(),
            closing,
            attributes: &body[name_end..],
            length: html.len() - inner.len() + end + 1,
        })
    }

    /// An attribute's value, entities decoded.
    fn attribute(&self, wanted: &str) -> Option<String> {
        let mut rest = self.attributes;
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            let name_end = rest.find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/')?;
            let name = &rest[..name_end];
            rest = rest[name_end..].trim_start();
            let value = match rest.strip_prefix('=') {
                Some(after) => {
                    let after = after.trim_start();
                    let (value, remaining) = match after.chars().next() {
                        Some(q @ ('"' | '\'')) => {
                            let end = after[1..].find(q).map_or(after.len(), |end| end + 1);
                            (&after[1..end], after.get(end + 1..).unwrap_or_default())
                        }
                        _ => {
                            let end = after.find(|c: char| c.is_ascii_whitespace()).unwrap_or(after.len());
                            (&after[..end], &after[end..])
                        }
                    };
                    rest = remaining;
                    value
                }
                None => "",
            };
            if name.eq_ignore_ascii_case(wanted) {
                return Some(decode_entities(value).trim().to_owned());
            }
            if rest.is_empty() {
                return None;
            }
        }
    }
}

/// Text being built: whitespace collapses to one space, and line breaks wait until text follows
/// them, so blocks never leave blank lines at the start or the end.
#[derive(Default)]
struct PlainText {
    out: String,
    space: bool,
    breaks: usize,
    preformatted: bool,
}

impl PlainText {
    fn len(&self) -> usize {
        self.out.len()
    }

    fn since(&self, start: usize) -> &str {
        self.out.get(start..).unwrap_or_default()
    }

    fn push(&mut self, text: &str) {
        for c in text.chars() {
            if self.preformatted && c == '\n' {
                self.line_break(1);
                self.flush();
            } else if !self.preformatted && matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c') {
                self.space = true;
            } else {
                self.flush();
                self.out.push(c);
            }
        }
    }

    /// Text that is not collapsed (a list bullet, a link target).
    fn push_word(&mut self, word: &str) {
        self.flush();
        self.out.push_str(word);
    }

    fn flush(&mut self) {
        if self.breaks > 0 {
            if !self.out.is_empty() {
                self.out.extend(std::iter::repeat_n('\n', self.breaks));
            }
            self.breaks = 0;
        } else if self.space && !self.out.is_empty() && !self.out.ends_with(['\n', ' ']) {
            self.out.push(' ');
        }
        self.space = false;
    }

    fn line_break(&mut self, lines: usize) {
        self.breaks = self.breaks.max(lines);
        self.space = false;
    }

    fn finish(self) -> String {
        self.out.lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim_end().to_owned()
    }
}

/// Decodes character references and the named entities emails use; an unknown one stays as
/// written.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest[1..].find(';').filter(|&end| end <= 32).and_then(|end| {
            let name = &rest[1..=end];
            let c = match name.strip_prefix('#') {
                Some(number) => match number.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
                    None => number.parse().ok().and_then(char::from_u32),
                },
                None => named_entity(name),
            }?;
            Some((c, end + 2))
        });
        match decoded {
            Some((c, length)) => {
                out.push(c);
                rest = &rest[length..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "shy" => '\u{ad}',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "sect" => '§',
        "deg" => '°',
        "middot" => '·',
        "bull" => '•',
        "hellip" => '…',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "laquo" => '«',
        "raquo" => '»',
        "times" => '×',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "ccedil" => 'ç',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_breaks_become_lines_and_whitespace_collapses() {
        let html = "<html><head><title>Hi</title><style>p { color: red }</style></head>\n<body>\n  <p>Dear   Ann,</p>\n<p>first line<br>second<BR/>third</p><div>a block</div>\n</body></html>";
        assert_eq!(html_to_text(html), "Dear Ann,\n\nfirst line\nsecond\nthird\n\na block");
    }

    #[test]
    fn links_keep_their_url_unless_the_text_is_the_url() {
        assert_eq!(
            html_to_text(r#"See <a href="https://example.com/x?a=1&amp;b=2">our offer</a>."#),
            "See our offer <https://example.com/x?a=1&b=2>."
        );
        assert_eq!(
            html_to_text(r#"<a href='https://example.com'>https://example.com</a>"#),
            "https://example.com"
        );
        assert_eq!(
            html_to_text(r#"<a href="mailto:ann@example.com">ann@example.com</a>"#),
            "ann@example.com"
        );
        assert_eq!(html_to_text(r##"<a href="#top">top</a>"##), "top");
    }

    #[test]
    fn entities_are_decoded_and_scripts_dropped() {
        assert_eq!(
            html_to_text(
                "Fish &amp; chips &lt;3 &#8364;5 &#x2013; &nbsp;x &bogus; a&b<script>if (a<b) {}</script>!"
            ),
            "Fish & chips <3 €5 – \u{a0}x &bogus; a&b!"
        );
    }

    #[test]
    fn list_items_get_a_dash_comments_vanish_and_pre_keeps_its_spaces() {
        assert_eq!(
            html_to_text("<p>Items:</p><ul><li>one</li><li>two</li></ul><!-- <p>hidden</p> -->end"),
            "Items:\n\n- one\n- two\n\nend"
        );
        assert_eq!(html_to_text("a < b and <pre>  keep\n  this</pre>"), "a < b and\n\n  keep\n  this");
    }
}
