//! A merge field's text as its switches shape the value: a date picture (`\@`), a case format
//! (`\*`), text before and after (`\b`, `\f`).

use chrono::{Datelike, NaiveDate};

use crate::documents::docx::{instruction_tokens, MergeField, Token};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// The text a field merges to: empty for an empty value (then `\b` and `\f` add nothing);
/// otherwise the date picture, then the case formats, are applied to the value alone, and the
/// `\b`/`\f` texts go around it as written. `\#` (number pictures) is not applied.
pub(super) fn field_text(field: &MergeField, value: Option<&str>) -> String {
    let Some(value) = value.filter(|value| !value.is_empty()) else {
        return String::new();
    };
    let argument = |letter: char| {
        field.switches.iter().filter(move |s| s.letter == letter).filter_map(|s| s.argument.as_deref())
    };
    let mut text = match (argument('@').next(), NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")) {
        (Some(picture), Ok(date)) => format_date(date, picture),
        _ => value.to_owned(),
    };
    for format in argument('*') {
        text = apply_case(format, &text);
    }
    let before = argument('b').next().unwrap_or_default();
    let after = argument('f').next().unwrap_or_default();
    format!("{before}{text}{after}")
}

/// The result of an `IF` field whose operands are text (its merge fields substituted):
/// `IF left op right "then" "else"` with `=`, `<>`, `<`, `<=`, `>`, `>=`; numbers compare as
/// numbers, `*` and `?` in `right` are wildcards for `=` and `<>`. None for another field, or an
/// `IF` written otherwise (an operator without spaces around it).
pub(super) fn if_result(instruction: &str) -> Option<String> {
    let mut tokens = instruction_tokens(instruction).into_iter();
    let mut text = || match tokens.next() {
        Some(Token::Text(text)) => Some(text),
        _ => None,
    };
    if !text()?.eq_ignore_ascii_case("IF") {
        return None;
    }
    let (left, operator, right, then) = (text()?, text()?, text()?, text()?);
    let otherwise = text().unwrap_or_default();
    let numbers = left.trim().parse::<f64>().ok().zip(right.trim().parse::<f64>().ok());
    let order = match numbers {
        Some((left, right)) => left.partial_cmp(&right)?,
        None => left.cmp(&right),
    };
    let wildcard = right.contains(['*', '?']);
    let holds = match operator.as_str() {
        "=" if wildcard => wildcard_match(&left, &right),
        "<>" if wildcard => !wildcard_match(&left, &right),
        "=" => order.is_eq(),
        "<>" => order.is_ne(),
        "<" => order.is_lt(),
        "<=" => order.is_le(),
        ">" => order.is_gt(),
        ">=" => order.is_ge(),
        _ => return None,
    };
    Some(if holds { then } else { otherwise })
}

/// Whether `text` matches `pattern`, in which `*` is any run of characters and `?` any one.
fn wildcard_match(text: &str, pattern: &str) -> bool {
    let (text, pattern): (Vec<char>, Vec<char>) = (text.chars().collect(), pattern.chars().collect());
    // matches[j]: the text so far matches pattern[..j].
    let mut matches = vec![false; pattern.len() + 1];
    matches[0] = true;
    for j in 1..=pattern.len() {
        matches[j] = matches[j - 1] && pattern[j - 1] == '*';
    }
    for &c in &text {
        let mut next = vec![false; pattern.len() + 1];
        for j in 1..=pattern.len() {
            next[j] = match pattern[j - 1] {
                '*' => next[j - 1] || matches[j],
                '?' => matches[j - 1],
                p => matches[j - 1] && p == c,
            };
        }
        matches = next;
    }
    matches[pattern.len()]
}

/// `Upper`, `Lower`, `Caps` (each word's first letter) and `FirstCap`; other formats
/// (`MERGEFORMAT`, `CHARFORMAT`, number formats) leave the text as it is.
fn apply_case(format: &str, text: &str) -> String {
    match format.to_ascii_lowercase().as_str() {
        "upper" => text.to_uppercase(),
        "lower" => text.to_lowercase(),
        "caps" => {
            let mut out = String::with_capacity(text.len());
            let mut at_word_start = true;
            for c in text.chars() {
                if at_word_start {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                at_word_start = c.is_whitespace();
            }
            out
        }
        "firstcap" => {
            let mut chars = text.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
        _ => text.to_owned(),
    }
}

/// A date through a Word date picture: `d` `dd` `ddd` `dddd`, `M` `MM` `MMM` `MMMM`, `yy`
/// `yyyy`, `'quoted'` literals; hours, minutes and seconds are those of midnight (the values are
/// dates); any other character is copied.
fn format_date(date: NaiveDate, picture: &str) -> String {
    let chars: Vec<char> = picture.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '\'' {
            let literal = chars[i + 1..].iter().take_while(|&&c| c != '\'');
            out.extend(literal.clone());
            i += literal.count() + 2;
            continue;
        }
        let count = chars[i..].iter().take_while(|&&next| next == c).count();
        i += count;
        let two_digits = |n: u32| if count >= 2 { format!("{n:02}") } else { n.to_string() };
        let month = date.month0() as usize;
        match c {
            'd' | 'D' => out.push_str(&match count {
                1 | 2 => two_digits(date.day()),
                3 => WEEKDAYS[date.weekday().num_days_from_monday() as usize][..3].to_owned(),
                _ => WEEKDAYS[date.weekday().num_days_from_monday() as usize].to_owned(),
            }),
            'M' => out.push_str(&match count {
                1 | 2 => two_digits(date.month()),
                3 => MONTHS[month][..3].to_owned(),
                _ => MONTHS[month].to_owned(),
            }),
            'y' | 'Y' if count <= 2 => out.push_str(&format!("{:02}", date.year().rem_euclid(100))),
            'y' | 'Y' => out.push_str(&format!("{:04}", date.year())),
            'H' | 'm' | 's' => out.push_str(&two_digits(0)),
            'h' => out.push_str(&two_digits(12)),
            c => out.extend(std::iter::repeat_n(c, count)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(instruction: &str, value: &str) -> String {
        field_text(&MergeField::parse(instruction).unwrap(), Some(value))
    }

    #[test]
    fn case_formats_change_the_value_and_mergeformat_does_not() {
        assert_eq!(text(r"MERGEFIELD a \* Upper", "straße & co"), "STRASSE & CO");
        assert_eq!(text(r"MERGEFIELD a \* lower", "ÉCOLE Name"), "école name");
        assert_eq!(text(r"MERGEFIELD a \* Caps", "jean-luc  de la mcDonald"), "Jean-luc  De La McDonald");
        assert_eq!(text(r"MERGEFIELD a \* FirstCap", "élan vital"), "Élan vital");
        assert_eq!(text(r"MERGEFIELD a \* MERGEFORMAT", "as Is"), "as Is");
    }

    #[test]
    fn text_before_and_after_is_added_only_around_a_value() {
        let field = MergeField::parse(r#"MERGEFIELD a \b "Dear " \f ","  \* Upper"#).unwrap();
        assert_eq!(field_text(&field, Some("ann")), "Dear ANN,");
        assert_eq!(field_text(&field, Some("")), "");
        assert_eq!(field_text(&field, None), "");
    }

    #[test]
    fn date_pictures_format_iso_dates_and_leave_other_values_alone() {
        let picture = |p: &str| text(&format!(r#"MERGEFIELD line_date \@ "{p}""#), "2024-03-05");
        assert_eq!(picture("dd.MM.yyyy"), "05.03.2024");
        assert_eq!(picture("d.M.yy"), "5.3.24");
        assert_eq!(picture("dddd, d MMMM yyyy"), "Tuesday, 5 March 2024");
        assert_eq!(picture("ddd d MMM"), "Tue 5 Mar");
        assert_eq!(picture("'day' d 'of' MMMM"), "day 5 of March");
        assert_eq!(picture("yyyy-MM-dd HH:mm"), "2024-03-05 00:00");
        assert_eq!(text(r#"MERGEFIELD line_date \@ "dd.MM.yyyy" \* Upper"#, "2024-12-31"), "31.12.2024");
        assert_eq!(text(r#"MERGEFIELD line_date \@ "MMMM" \* Upper"#, "2024-12-31"), "DECEMBER");
        assert_eq!(text(r#"MERGEFIELD line_date \@ "dd.MM.yyyy""#, "soon"), "soon");
        assert_eq!(text(r#"MERGEFIELD line_date \@ "'unclosed"#, "2024-12-31"), "unclosed");
    }

    #[test]
    fn if_fields_with_text_operands_are_evaluated() {
        assert_eq!(if_result(r#"IF "DE" = "DE" "Sehr geehrte" "Dear" "#).as_deref(), Some("Sehr geehrte"));
        assert_eq!(
            if_result(r#"IF "GB" = "DE" "Sehr geehrte" "Dear" \* MERGEFORMAT"#).as_deref(),
            Some("Dear")
        );
        assert_eq!(if_result(r#"IF "GB" <> "DE" "other""#).as_deref(), Some("other"));
        assert_eq!(if_result(r#"IF "GB" = "DE" "other""#).as_deref(), Some(""));
        assert_eq!(if_result(r#"IF "10" > "9" "more" "less""#).as_deref(), Some("more"));
        assert_eq!(if_result(r#"IF "b" < "a" "before" "after""#).as_deref(), Some("after"));
        assert_eq!(if_result(r#"IF "Smithers" = "Smi?h*" "yes" "no""#).as_deref(), Some("yes"));
        assert_eq!(if_result(r#"IF "Smith" = "*x*" "yes" "no""#).as_deref(), Some("no"));
        assert_eq!(if_result(r#"IF "" = "" "empty" "set""#).as_deref(), Some("empty"));
        assert_eq!(if_result(r#"IF "a"="a" "x" "y""#), None);
        assert_eq!(if_result("PAGE"), None);
    }
}
