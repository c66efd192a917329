//! One XML part (the body, a header, a footer) merged: its events are read once, its fields
//! resolved, and the events written again with each MERGEFIELD replaced by one plain run.
//!
//! The events are kept (borrowed from the part's text, not copied) because whether a complex
//! field is a MERGEFIELD is known only at its `separate`, runs after its `begin`. Everything the
//! merge does not change is written back event for event.

use quick_xml::events::{BytesStart, Event};
use quick_xml::NsReader;

use super::format::{field_text, if_result};
use super::write::write_part;
use super::MergeValues;
use crate::documents::docx::{self, MergeField};
use crate::documents::DocumentError;

/// Merges one part; `part` names it in errors.
pub(super) fn merge_part(part: &str, xml: &[u8], values: &MergeValues) -> Result<Vec<u8>, DocumentError> {
    let source =
        std::str::from_utf8(xml).map_err(|_| DocumentError::InvalidDocx(format!("{part} is not UTF-8")))?;
    let fields = read_part(source, values)
        .map_err(|e| DocumentError::InvalidDocx(format!("{part} is not well-formed XML: {e}")))?;
    write_part(&fields, source.len())
        .map_err(|e| DocumentError::InvalidDocx(format!("{part} cannot be written: {e}")))
}

/// What an element in the WordprocessingML namespace is to the merge.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Run,
    RunProperties,
    FieldChar,
    InstructionText,
    SimpleField,
    TextBox,
    Other,
}

/// A `w:r`: where it starts and ends (event indexes), its `w:rPr`, and its child items.
pub(super) struct Run {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) properties: Option<(usize, usize)>,
    pub(super) children: Vec<usize>,
}

/// A child of a run, or a `w:fldSimple`, by its event range.
pub(super) struct Item {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) kind: ItemKind,
    /// Part of a merged field: not written.
    pub(super) dropped: bool,
    /// Written in its place: a merged field's text (at the field's `end` or its `fldSimple`).
    pub(super) replacement: Option<Replacement>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ItemKind {
    /// Whitespace, a comment or a processing instruction between a run's children.
    Filler,
    Content,
    Begin,
    Separate,
    End,
    Instruction,
    SimpleField,
}

/// A merged field's text and the run whose `w:rPr` its run carries.
pub(super) struct Replacement {
    pub(super) text: String,
    pub(super) properties_of: Option<usize>,
    /// The field was nested in another field's instruction: its text is instruction text.
    pub(super) as_instruction: bool,
}

/// A complex field whose `end` has not been read yet.
struct OpenField {
    begin: usize,
    begin_run: usize,
    instruction: String,
    instruction_run: Option<usize>,
    separated: bool,
    separate: Option<usize>,
    result_run: Option<usize>,
    /// A merge field nested in its instruction was substituted.
    substituted: bool,
}

/// An element being read, as the merge sees it.
#[derive(Clone, Copy)]
enum Open {
    Run(usize),
    RunProperties(usize),
    Item { item: usize, run: usize },
    SimpleField { item: usize, runs_before: usize },
    TextBox,
    Other,
}

/// A part read: its events and its runs and fields.
pub(super) struct Part<'a> {
    pub(super) events: Vec<Event<'a>>,
    pub(super) runs: Vec<Run>,
    pub(super) items: Vec<Item>,
    /// The prefix (`w:`) of the first WordprocessingML element the merge reads, for the runs it
    /// writes.
    pub(super) prefix: String,
    /// Complex fields not yet ended, one stack per story: the part, and each text box
    /// (`w:txbxContent`) in it, since fields never cross into or out of one.
    stories: Vec<Vec<OpenField>>,
}

/// Reads the events of a part and resolves its fields.
fn read_part<'a>(source: &'a str, values: &MergeValues) -> Result<Part<'a>, String> {
    let mut reader = NsReader::from_str(source);
    let mut part = Part {
        events: Vec::new(),
        runs: Vec::new(),
        items: Vec::new(),
        prefix: String::new(),
        stories: vec![Vec::new()],
    };
    let mut open: Vec<Open> = Vec::new();
    let mut prefix_known = false;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        let index = part.events.len();
        match &event {
            Event::Start(element) | Event::Empty(element) => {
                let role = role(&reader, element);
                if role != Role::Other && !prefix_known {
                    prefix_known = true;
                    part.prefix =
                        element.name().prefix().map_or(String::new(), |p| format!("{}:", p.as_ref()));
                }
                let entry = part.open_element(role, element, index, open.last().copied(), values)?;
                if matches!(event, Event::Empty(_)) {
                    part.close_element(entry, index, values);
                } else {
                    open.push(entry);
                }
            }
            Event::End(_) => {
                let entry = open.pop().ok_or("an end tag closes nothing")?;
                part.close_element(entry, index, values);
            }
            Event::Text(_) | Event::GeneralRef(_) | Event::CData(_) | Event::Comment(_) | Event::PI(_) => {
                match open.last().copied() {
                    Some(Open::Run(run)) => {
                        part.add_item(Some(run), index, ItemKind::Filler);
                    }
                    Some(Open::Item { item, .. }) if part.items[item].kind == ItemKind::Instruction => {
                        let text = match &event {
                            Event::Text(text) => text.xml10_content().into_owned(),
                            Event::CData(text) => text.clone().into_inner().into_owned(),
                            Event::GeneralRef(reference) => docx::resolve(reference)?,
                            _ => String::new(),
                        };
                        if let Some(field) = part.open_field().filter(|field| !field.separated) {
                            field.instruction.push_str(&text);
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::DocType(_) => {}
        }
        part.events.push(event);
    }
    if !open.is_empty() {
        return Err("an element is not closed".into());
    }
    Ok(part)
}

/// The role of an element: only names in the WordprocessingML namespace have one (`m:r`, a
/// run of an equation, is not a `w:r`).
fn role(reader: &NsReader<&[u8]>, element: &BytesStart<'_>) -> Role {
    let role = match element.local_name().as_ref() {
        "r" => Role::Run,
        "rPr" => Role::RunProperties,
        "fldChar" => Role::FieldChar,
        "instrText" => Role::InstructionText,
        "fldSimple" => Role::SimpleField,
        "txbxContent" => Role::TextBox,
        _ => return Role::Other,
    };
    if docx::is_word_name(reader, element.name()) {
        role
    } else {
        Role::Other
    }
}

impl Part<'_> {
    fn open_field(&mut self) -> Option<&mut OpenField> {
        self.stories.last_mut().and_then(|story| story.last_mut())
    }

    fn add_item(&mut self, run: Option<usize>, index: usize, kind: ItemKind) -> usize {
        let item = self.items.len();
        self.items.push(Item { start: index, end: index, kind, dropped: false, replacement: None });
        if let Some(run) = run {
            self.runs[run].children.push(item);
        }
        item
    }

    fn open_element(
        &mut self,
        role: Role,
        element: &BytesStart<'_>,
        index: usize,
        parent: Option<Open>,
        values: &MergeValues,
    ) -> Result<Open, String> {
        let attribute = |name| docx::attribute(element, name).map_err(|e| e.to_string());
        if let Some(Open::Run(run)) = parent {
            if role == Role::RunProperties && self.runs[run].properties.is_none() {
                self.runs[run].properties = Some((index, index));
                return Ok(Open::RunProperties(run));
            }
            let kind = match role {
                Role::FieldChar => match attribute("fldCharType")?.as_deref() {
                    Some("begin") => ItemKind::Begin,
                    Some("separate") => ItemKind::Separate,
                    Some("end") => ItemKind::End,
                    _ => ItemKind::Content,
                },
                Role::InstructionText => ItemKind::Instruction,
                _ => ItemKind::Content,
            };
            return Ok(Open::Item { item: self.add_item(Some(run), index, kind), run });
        }
        Ok(match role {
            Role::Run => {
                self.runs.push(Run { start: index, end: index, properties: None, children: Vec::new() });
                Open::Run(self.runs.len() - 1)
            }
            Role::SimpleField => {
                let item = self.add_item(None, index, ItemKind::SimpleField);
                if let Some(field) = attribute("instr")?.as_deref().and_then(MergeField::parse) {
                    let text = field_text(&field, values.get(&field.name));
                    self.items[item].replacement = Some(self.place(text, None));
                }
                Open::SimpleField { item, runs_before: self.runs.len() }
            }
            Role::TextBox => {
                self.stories.push(Vec::new());
                Open::TextBox
            }
            _ => Open::Other,
        })
    }

    fn close_element(&mut self, entry: Open, index: usize, values: &MergeValues) {
        match entry {
            Open::Run(run) => self.runs[run].end = index,
            Open::RunProperties(run) => {
                if let Some((start, _)) = self.runs[run].properties {
                    self.runs[run].properties = Some((start, index));
                }
            }
            Open::Item { item, run } => {
                self.items[item].end = index;
                self.read_field_item(item, run, values);
            }
            Open::SimpleField { item, runs_before } => {
                self.items[item].end = index;
                let first_run = (self.runs.len() > runs_before).then_some(runs_before);
                if let Some(replacement) = self.items[item].replacement.as_mut() {
                    replacement.properties_of = replacement.properties_of.or(first_run);
                }
            }
            Open::TextBox => {
                self.stories.pop();
            }
            Open::Other => {}
        }
    }

    /// Follows the complex fields through one run child, and merges a MERGEFIELD at its `end`.
    fn read_field_item(&mut self, item: usize, run: usize, values: &MergeValues) {
        match self.items[item].kind {
            ItemKind::Begin => {
                if let Some(story) = self.stories.last_mut() {
                    story.push(OpenField {
                        begin: item,
                        begin_run: run,
                        instruction: String::new(),
                        instruction_run: None,
                        separated: false,
                        separate: None,
                        result_run: None,
                        substituted: false,
                    });
                }
            }
            ItemKind::Separate => {
                if let Some(field) = self.open_field() {
                    field.separated = true;
                    field.separate = Some(item);
                }
            }
            ItemKind::Instruction => {
                if let Some(field) = self.open_field().filter(|field| !field.separated) {
                    field.instruction_run.get_or_insert(run);
                }
            }
            ItemKind::Content => {
                if let Some(field) = self.open_field().filter(|field| field.separated) {
                    field.result_run.get_or_insert(run);
                }
            }
            ItemKind::End => {
                let Some(field) = self.stories.last_mut().and_then(Vec::pop) else { return };
                let Some(merge) = MergeField::parse(&field.instruction) else {
                    self.refresh_result(field, item);
                    return;
                };
                let text = field_text(&merge, values.get(&merge.name));
                for dropped in &mut self.items[field.begin..=item] {
                    dropped.dropped = true;
                    dropped.replacement = None;
                }
                let properties_of = field.result_run.or(field.instruction_run).or(Some(field.begin_run));
                self.items[item].replacement = Some(self.place(text, properties_of));
            }
            ItemKind::Filler | ItemKind::SimpleField => {}
        }
    }

    /// A merged field's replacement where it stands: its text as a run, or, nested in another
    /// field's instruction (`IF { MERGEFIELD x } = "DE" ...`), as instruction text (see
    /// [`instruction_text`]), so the outer field reads the value as Word would.
    fn place(&mut self, text: String, properties_of: Option<usize>) -> Replacement {
        match self.open_field().filter(|outer| !outer.separated) {
            Some(outer) => {
                let text = instruction_text(&outer.instruction, &text);
                outer.instruction.push_str(&text);
                outer.substituted = true;
                Replacement { text, properties_of, as_instruction: true }
            }
            None => Replacement { text, properties_of, as_instruction: false },
        }
    }

    /// Gives an `IF` whose instruction had merge fields substituted the result it now has, as
    /// one run in place of its old result; the field itself stays. An `IF` it cannot evaluate,
    /// or without a result part, keeps its old result.
    fn refresh_result(&mut self, field: OpenField, end: usize) {
        let Some(separate) = field.separate.filter(|_| field.substituted) else { return };
        let Some(text) = if_result(&field.instruction) else { return };
        for result in &mut self.items[separate + 1..end] {
            result.dropped = true;
            result.replacement = None;
        }
        if let Some(outer) = self.open_field().filter(|outer| !outer.separated) {
            let nested = instruction_text(&outer.instruction, &text);
            outer.instruction.push_str(&nested);
            outer.substituted = true;
        }
        let properties_of = field.result_run.or(Some(field.begin_run));
        self.items[end].replacement = Some(Replacement { text, properties_of, as_instruction: false });
    }
}

/// A value as instruction text after `instruction`: a quoted string where it stands alone,
/// escaped text inside a quoted one (`"Dear { MERGEFIELD x }"`).
fn instruction_text(instruction: &str, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    if inside_quotes(instruction) {
        escaped
    } else {
        format!("\"{escaped}\"")
    }
}

/// Whether an instruction so far ends inside a quoted string (`\"` does not close one).
fn inside_quotes(instruction: &str) -> bool {
    let (mut inside, mut escaped) = (false, false);
    for c in instruction.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => inside = !inside,
            _ => {}
        }
    }
    inside
}
