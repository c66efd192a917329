//! A merged part written: the events as read, less the merged fields' machinery, with each
//! merged field's run where the field stood.

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::part::{ItemKind, Part, Replacement};

/// What writing changes: the events left out (inclusive ranges) and the pieces written before
/// an event, both by event index.
struct Plan {
    skips: Vec<(usize, usize)>,
    pieces: Vec<(usize, Piece)>,
}

/// What writing a part changes. A merged `w:fldSimple` is left out for its replacement. A run
/// that lost children or gains a replacement is written again: its start and `w:rPr` before
/// each stretch of children it keeps, its end after it, so a replacement stands between runs;
/// a run that keeps nothing disappears.
fn plan(part: &Part<'_>) -> Plan {
    let (mut skips, mut pieces) = (Vec::new(), Vec::new());
    for (id, item) in part.items.iter().enumerate() {
        if item.kind == ItemKind::SimpleField && (item.dropped || item.replacement.is_some()) {
            skips.push((item.start, item.end));
            if !item.dropped {
                pieces.push((item.start, Piece::Replacement(id)));
            }
        }
    }
    for run in &part.runs {
        let items = run.children.iter().map(|&id| (id, &part.items[id]));
        if !items.clone().any(|(_, item)| item.dropped || item.replacement.is_some()) {
            continue;
        }
        skips.push((run.start, run.start));
        skips.extend(run.properties);
        let mut open = false;
        for (id, item) in items {
            if item.replacement.is_some() {
                if open {
                    pieces.push((item.start, Piece::Events(run.end, run.end)));
                    open = false;
                }
                pieces.push((item.start, Piece::Replacement(id)));
            }
            if item.dropped || (item.kind == ItemKind::Filler && !open) {
                skips.push((item.start, item.end));
                continue;
            }
            if !open {
                pieces.push((item.start, Piece::Events(run.start, run.start)));
                pieces.extend(run.properties.map(|(start, end)| (item.start, Piece::Events(start, end))));
                open = true;
            }
        }
        if !open {
            skips.push((run.end, run.end));
        }
    }
    skips.sort_unstable();
    pieces.sort_by_key(|(at, _)| *at);
    Plan { skips, pieces }
}

/// Something written that was not read at that place.
enum Piece {
    /// Events read elsewhere (a run's start, `w:rPr` or end), inclusive.
    Events(usize, usize),
    Replacement(usize),
}

/// The part's events as the plan changes them.
pub(super) fn write_part(part: &Part<'_>, capacity: usize) -> std::io::Result<Vec<u8>> {
    let Plan { skips, pieces } = plan(part);
    let mut writer = Writer::new(Vec::with_capacity(capacity + capacity / 8));
    let (mut next_skip, mut next_piece, mut index) = (0, 0, 0);
    while index < part.events.len() {
        // Skips and pieces inside a range already left out are left out with it.
        while pieces.get(next_piece).is_some_and(|(at, _)| *at < index) {
            next_piece += 1;
        }
        while let Some((_, piece)) = pieces.get(next_piece).filter(|(at, _)| *at == index) {
            match piece {
                Piece::Events(start, end) => {
                    for event in &part.events[*start..=*end] {
                        writer.write_event(event.borrow())?;
                    }
                }
                Piece::Replacement(item) => {
                    if let Some(replacement) = &part.items[*item].replacement {
                        write_replacement(&mut writer, part, replacement)?;
                    }
                }
            }
            next_piece += 1;
        }
        while skips.get(next_skip).is_some_and(|(start, _)| *start < index) {
            next_skip += 1;
        }
        let mut skip_to = None;
        while let Some(&(_, end)) = skips.get(next_skip).filter(|(start, _)| *start == index) {
            skip_to = Some(skip_to.map_or(end, |to: usize| to.max(end)));
            next_skip += 1;
        }
        match skip_to {
            Some(end) => index = end + 1,
            None => {
                writer.write_event(part.events[index].borrow())?;
                index += 1;
            }
        }
    }
    Ok(writer.into_inner())
}

/// One plain run carrying the `w:rPr` of the field's result: the text in `w:t`s, a line break as
/// `w:br`, a tab as `w:tab`; nothing for an empty text. Characters XML 1.0 does not allow are
/// dropped.
fn write_replacement(
    writer: &mut Writer<Vec<u8>>,
    part: &Part<'_>,
    replacement: &Replacement,
) -> std::io::Result<()> {
    let text: String = replacement.text.chars().filter(|&c| allowed_in_xml(c)).collect();
    if text.is_empty() {
        return Ok(());
    }
    let name = |local: &str| format!("{}{local}", part.prefix);
    writer.write_event(Event::Start(BytesStart::new(name("r"))))?;
    if let Some((start, end)) = replacement.properties_of.and_then(|run| part.runs[run].properties) {
        for event in &part.events[start..=end] {
            writer.write_event(event.borrow())?;
        }
    }
    let text_element = |writer: &mut Writer<Vec<u8>>, local: &str, text: &str| -> std::io::Result<()> {
        let element = BytesStart::new(name(local)).with_attributes([("xml:space", "preserve")]);
        writer.write_event(Event::Start(element))?;
        writer.write_event(Event::Text(BytesText::new(text)))?;
        writer.write_event(Event::End(BytesEnd::new(name(local))))
    };
    if replacement.as_instruction {
        text_element(writer, "instrText", &text)?;
    } else {
        for (n, line) in text.replace("\r\n", "\n").split(['\n', '\r']).enumerate() {
            if n > 0 {
                writer.write_event(Event::Empty(BytesStart::new(name("br"))))?;
            }
            for (m, piece) in line.split('\t').enumerate() {
                if m > 0 {
                    writer.write_event(Event::Empty(BytesStart::new(name("tab"))))?;
                }
                if !piece.is_empty() {
                    text_element(writer, "t", piece)?;
                }
            }
        }
    }
    writer.write_event(Event::End(BytesEnd::new(name("r"))))
}

/// Whether XML 1.0 allows the character in a document.
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}
