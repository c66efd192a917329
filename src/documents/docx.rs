//! Word `.docx` packages: the checks that make an upload a real OOXML package (a zip holding
//! `[Content_Types].xml` and `word/document.xml`, unpacked within bounds that stop zip bombs)
//! and the scan of the body, headers and footers for MERGEFIELDs, simple and complex. The merge
//! unpacks with the same checks (`unpack`) and reads instructions with the same grammar.

use std::collections::BTreeSet;
use std::io::{self, Cursor, Read, Seek};

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::{Namespace, QName, ResolveResult};
use quick_xml::NsReader;

use super::DocumentError;

/// Most entries a package may have.
pub const MAX_ENTRIES: usize = 1000;
/// Most bytes a package may unpack to, counted while unpacking (zip headers can lie).
pub const MAX_UNPACKED_BYTES: u64 = 100 * 1024 * 1024;

const CONTENT_TYPES_PART: &str = "[Content_Types].xml";
const DOCUMENT_PART: &str = "word/document.xml";

/// The merge fields of a package, each once, lower-cased (Word matches names without case),
/// sorted; refuses anything that is not a bounded Word package.
pub fn merge_fields(bytes: &[u8]) -> Result<Vec<String>, DocumentError> {
    let mut parts = unpack(Cursor::new(bytes))?.field_parts;
    parts.sort_by_key(|part| part.name != DOCUMENT_PART);
    let mut names = BTreeSet::new();
    for part in &parts {
        scan_part(&part.name, &part.xml, &mut names)?;
    }
    Ok(names.into_iter().collect())
}

/// Whether a part may hold merge fields: the body, a header or a footer.
fn holds_fields(part: &str) -> bool {
    let is_xml_in_word = |prefix: &str| {
        part.strip_prefix(prefix).is_some_and(|rest| rest.ends_with(".xml") && !rest.contains('/'))
    };
    part == DOCUMENT_PART || is_xml_in_word("word/header") || is_xml_in_word("word/footer")
}

/// A package that passed the checks: its archive, and the parts that may hold fields unpacked.
pub(super) struct Package<R> {
    pub archive: zip::ZipArchive<R>,
    /// In archive order.
    pub field_parts: Vec<FieldPart>,
}

/// The body, a header or a footer, unpacked.
pub(super) struct FieldPart {
    /// Its entry's index in the archive.
    pub index: usize,
    pub name: String,
    pub last_modified: Option<zip::DateTime>,
    pub xml: Vec<u8>,
}

/// Unpacks every entry within the bounds (which also checks each entry's CRC) and keeps the
/// parts that may hold fields.
pub(super) fn unpack<R: Read + Seek>(package: R) -> Result<Package<R>, DocumentError> {
    let mut archive = zip::ZipArchive::new(package)
        .map_err(|e| invalid(format!("the document is not a Word package (not a zip archive: {e})")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(DocumentError::DocxTooLarge(format!(
            "the package has {} entries; at most {MAX_ENTRIES} are accepted",
            archive.len()
        )));
    }
    let mut budget = MAX_UNPACKED_BYTES;
    let mut field_parts = Vec::new();
    let mut has_content_types = false;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| invalid(format!("entry {index} of the package cannot be read: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| invalid(format!("entry {index} of the package has no readable name: {e}")))?
            .into_owned();
        if entry.is_dir() {
            continue;
        }
        has_content_types |= name == CONTENT_TYPES_PART;
        let keep = holds_fields(&name);
        let last_modified = entry.last_modified();
        let mut limited = (&mut entry).take(budget + 1);
        let mut xml = Vec::new();
        let unpacked = if keep {
            limited.read_to_end(&mut xml).map(|n| n as u64)
        } else {
            io::copy(&mut limited, &mut io::sink())
        }
        .map_err(|e| invalid(format!("{name} cannot be unpacked: {e}")))?;
        if unpacked > budget {
            return Err(DocumentError::DocxTooLarge(format!(
                "the package unpacks to more than {MAX_UNPACKED_BYTES} bytes"
            )));
        }
        budget -= unpacked;
        if keep {
            field_parts.push(FieldPart { index, name, last_modified, xml });
        }
    }
    if !has_content_types {
        return Err(invalid(format!("the package has no {CONTENT_TYPES_PART}")));
    }
    if !field_parts.iter().any(|part| part.name == DOCUMENT_PART) {
        return Err(invalid(format!("the package has no {DOCUMENT_PART}: it is not a Word document")));
    }
    Ok(Package { archive, field_parts })
}

/// A complex field being read: its instruction so far, and whether `separate` ended it.
#[derive(Default)]
struct OpenField {
    instruction: String,
    separated: bool,
}

/// Adds the MERGEFIELD names of one XML part, read as a stream of events: `w:fldSimple`'s
/// `w:instr`, and complex fields (`w:fldChar` begin, `w:instrText` in one or more runs,
/// separate, end), which may nest.
fn scan_part(part: &str, xml: &[u8], names: &mut BTreeSet<String>) -> Result<(), DocumentError> {
    let source = std::str::from_utf8(xml).map_err(|_| invalid(format!("{part} is not UTF-8")))?;
    let malformed = |e: &dyn std::fmt::Display| invalid(format!("{part} is not well-formed XML: {e}"));
    let mut reader = NsReader::from_str(source);
    let mut open: Vec<OpenField> = Vec::new();
    let mut in_instruction = false;
    // Per open element, whether it is a run as the merge reads runs (`merge::part`): a `w:r`
    // that is not itself the child of a run. Field characters and instructions count only as
    // a run's children, and simple fields only outside one, as in the merge: the fields an
    // upload lists are the fields a merge fills (a `w:r` nested in a `w:r`, found by fuzzing,
    // hid its fields from the merge but not from this scan).
    let mut runs: Vec<bool> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| malformed(&e))?;
        // Only WordprocessingML elements are fields, as in the merge.
        let word = match &event {
            Event::Start(e) | Event::Empty(e) => is_word_name(&reader, e.name()),
            _ => false,
        };
        let in_run = runs.last() == Some(&true);
        match event {
            Event::Start(ref e) => {
                runs.push(word && !in_run && e.local_name().as_ref() == "r");
                in_instruction = word && in_run && e.local_name().as_ref() == "instrText";
            }
            Event::End(_) => {
                runs.pop();
                in_instruction = false;
            }
            _ => {}
        }
        match event {
            Event::Start(e) | Event::Empty(e) if word => match e.local_name().as_ref() {
                "fldSimple" if !in_run => {
                    if let Some(instruction) = attribute(&e, "instr").map_err(|e| malformed(&e))? {
                        names.extend(mergefield_name(&instruction));
                    }
                }
                "fldChar" if in_run => {
                    match attribute(&e, "fldCharType").map_err(|e| malformed(&e))?.as_deref() {
                        Some("begin") => open.push(OpenField::default()),
                        Some("separate") => {
                            if let Some(field) = open.last_mut() {
                                field.separated = true;
                            }
                        }
                        Some("end") => {
                            if let Some(field) = open.pop() {
                                names.extend(mergefield_name(&field.instruction));
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            },
            Event::Text(text) if in_instruction => {
                if let Some(field) = open.last_mut().filter(|f| !f.separated) {
                    field.instruction.push_str(&text.xml10_content());
                }
            }
            Event::GeneralRef(reference) if in_instruction => {
                if let Some(field) = open.last_mut().filter(|f| !f.separated) {
                    field.instruction.push_str(&resolve(&reference).map_err(|e| malformed(&e))?);
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// The WordprocessingML namespace, transitional and strict.
const W_NAMESPACES: [&str; 2] = [
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
];

/// Whether an element name is in the WordprocessingML namespace (`w:r`, not `m:r`, the run of
/// an equation, nor a `w:` prefix bound to some other namespace).
pub(super) fn is_word_name(reader: &NsReader<&[u8]>, name: QName<'_>) -> bool {
    matches!(
        reader.resolver().resolve_element(name).0,
        ResolveResult::Bound(Namespace(ns)) if W_NAMESPACES.contains(&ns)
    )
}

/// The value of the attribute with this local name (any prefix), entities resolved.
pub(super) fn attribute(
    element: &BytesStart<'_>,
    local_name: &str,
) -> Result<Option<String>, quick_xml::Error> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(quick_xml::Error::from)?;
        if attribute.key.local_name().as_ref() == local_name {
            return Ok(Some(attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0)?.into_owned()));
        }
    }
    Ok(None)
}

/// The text of an entity or character reference (`&amp;`, `&#34;`).
pub(super) fn resolve(reference: &BytesRef<'_>) -> Result<String, String> {
    if let Some(c) = reference.resolve_char_ref().map_err(|e| e.to_string())? {
        return Ok(c.to_string());
    }
    let name = reference.clone().into_inner();
    resolve_predefined_entity(&name).map(str::to_owned).ok_or_else(|| format!("unknown entity &{name};"))
}

/// The field name of a `MERGEFIELD` instruction, lower-cased (`MERGEFIELD Contact_Name \*
/// MERGEFORMAT`, `MERGEFIELD "contact_name" \b "Dear "`); None for any other field.
pub fn mergefield_name(instruction: &str) -> Option<String> {
    MergeField::parse(instruction).map(|field| field.name)
}

/// A `MERGEFIELD` instruction read: the field's name, lower-cased, and its switches in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeField {
    pub name: String,
    pub switches: Vec<Switch>,
}

/// A field switch: `\* Upper` is `('*', Some("Upper"))`, `\b "Dear "` is `('b', Some("Dear "))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    pub letter: char,
    pub argument: Option<String>,
}

impl MergeField {
    /// Reads a field instruction; None unless it is a `MERGEFIELD` with a name.
    pub fn parse(instruction: &str) -> Option<MergeField> {
        let mut tokens = instruction_tokens(instruction).into_iter().peekable();
        match tokens.next()? {
            Token::Text(keyword) if keyword.eq_ignore_ascii_case("MERGEFIELD") => {}
            _ => return None,
        }
        let name = match tokens.next()? {
            Token::Text(name) if !name.trim().is_empty() => name.trim().to_lowercase(),
            _ => return None,
        };
        let mut switches = Vec::new();
        while let Some(token) = tokens.next() {
            if let Token::Switch(letter) = token {
                // Only these switches take an argument (`\m` and `\v` are flags).
                let argument = if "*@#bf".contains(letter) {
                    tokens.next_if(|token| matches!(token, Token::Text(_))).and_then(|token| match token {
                        Token::Text(text) => Some(text),
                        Token::Switch(_) => None,
                    })
                } else {
                    None
                };
                switches.push(Switch { letter, argument });
            }
        }
        Some(MergeField { name, switches })
    }
}

/// A word of a field instruction: a switch (`\*`) or a text, quoted or not.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Token {
    Switch(char),
    Text(String),
}

/// Splits an instruction as Word does: at whitespace, `"..."` as one text (in which `\"` is a
/// quote and `\\` a backslash), and a switch as a backslash and one character.
pub(super) fn instruction_tokens(instruction: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = instruction.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '\\' => tokens.extend(chars.next().map(Token::Switch)),
            '"' => {
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' if chars.peek().is_some_and(|next| matches!(next, '"' | '\\')) => {
                            text.extend(chars.next());
                        }
                        c => text.push(c),
                    }
                }
                tokens.push(Token::Text(text));
            }
            c => {
                let mut text = String::from(c);
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    text.push(c);
                }
                tokens.push(Token::Text(text));
            }
        }
    }
    tokens
}

fn invalid(detail: String) -> DocumentError {
    DocumentError::InvalidDocx(detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mergefield_names_are_read_with_their_switches_and_quotes() {
        assert_eq!(
            mergefield_name(" MERGEFIELD  Contact_Name \\* MERGEFORMAT "),
            Some("contact_name".into())
        );
        assert_eq!(mergefield_name("MERGEFIELD \"line_subject\" \\b \"Re: \""), Some("line_subject".into()));
        assert_eq!(mergefield_name("mergefield segment_no"), Some("segment_no".into()));
        assert_eq!(mergefield_name("PAGE \\* MERGEFORMAT"), None);
        assert_eq!(mergefield_name("MERGEFIELD"), None);
        assert_eq!(mergefield_name("MERGEFIELD \\* MERGEFORMAT"), None);
        assert_eq!(mergefield_name("MERGEFIELD \"\""), None);
    }

    #[test]
    fn mergefield_switches_are_read_with_their_arguments_quoted_or_not() {
        let field = MergeField::parse(
            r#"MERGEFIELD  Line_Date \@ "dddd, d 'of' MMMM" \*Upper \b "Dear \"Sir\" " \f , \m \* MERGEFORMAT"#,
        )
        .unwrap();
        let switch =
            |letter, argument: Option<&str>| Switch { letter, argument: argument.map(str::to_owned) };
        assert_eq!(field.name, "line_date");
        assert_eq!(
            field.switches,
            [
                switch('@', Some("dddd, d 'of' MMMM")),
                switch('*', Some("Upper")),
                switch('b', Some("Dear \"Sir\" ")),
                switch('f', Some(",")),
                switch('m', None),
                switch('*', Some("MERGEFORMAT")),
            ]
        );
        assert_eq!(MergeField::parse("IF 1 = 1 \"a\" \"b\""), None);
    }

    #[test]
    fn simple_and_split_complex_fields_are_found_and_nested_ones_too() {
        let xml = r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>
            <w:fldSimple w:instr=" MERGEFIELD contact_name \* MERGEFORMAT "><w:r><w:t>«contact_name»</w:t></w:r></w:fldSimple>
            <w:r><w:fldChar w:fldCharType="begin"/></w:r>
            <w:r><w:instrText xml:space="preserve"> MERGEFIELD line_</w:instrText></w:r>
            <w:r><w:instrText>subject &amp; \* MERGEFORMAT</w:instrText></w:r>
            <w:r><w:fldChar w:fldCharType="separate"/></w:r>
            <w:r><w:t>«line_subject»</w:t></w:r>
            <w:r><w:fldChar w:fldCharType="end"/></w:r>
            <w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>IF </w:instrText></w:r>
            <w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>MERGEFIELD segment_no</w:instrText></w:r>
            <w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:instrText> = "1" "a" "b"</w:instrText></w:r>
            <w:r><w:fldChar w:fldCharType="end"/></w:r>
        </w:p></w:body></w:document>"#;
        let mut names = BTreeSet::new();
        scan_part(DOCUMENT_PART, xml.as_bytes(), &mut names).unwrap();
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["contact_name", "line_subject", "segment_no"]);
        // The merge fills fields of the WordprocessingML namespace only, so only those are
        // listed: a `w:` prefix bound elsewhere (found by fuzzing) lists none.
        let foreign = xml.replace("http://schemas.openxmlformats.org/wordprocessingml/2006/main", "urn:w");
        let mut names = BTreeSet::new();
        scan_part(DOCUMENT_PART, foreign.as_bytes(), &mut names).unwrap();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn fields_count_where_the_merge_reads_them_not_in_a_run_nested_in_a_run() {
        // Found by fuzzing: the merge reads a `w:r` inside a `w:r` as opaque content.
        let w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
        let field = r#"<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>MERGEFIELD segment_no</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>"#;
        let scan = |body: String| {
            let xml = format!(r#"<w:document xmlns:w="{w}"><w:body><w:p>{body}</w:p></w:body></w:document>"#);
            let mut names = BTreeSet::new();
            scan_part(DOCUMENT_PART, xml.as_bytes(), &mut names).unwrap();
            names.into_iter().collect::<Vec<_>>()
        };
        assert_eq!(scan(field.to_owned()), ["segment_no"]);
        assert!(scan(format!("<w:r>{field}</w:r>")).is_empty());
    }

    #[test]
    fn malformed_xml_is_refused() {
        let mut names = BTreeSet::new();
        assert!(matches!(
            scan_part(DOCUMENT_PART, b"<w:document><w:body></w:document>", &mut names),
            Err(DocumentError::InvalidDocx(_))
        ));
    }

    /// A package whose `zeros.bin` unpacks to 101 MiB while its headers claim 16 bytes.
    fn package_with_lying_headers() -> Vec<u8> {
        use std::io::Write;
        use zip::write::SimpleFileOptions;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in [(CONTENT_TYPES_PART, "<Types/>"), (DOCUMENT_PART, "<w:document/>")] {
            zip.start_file(name, options).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.start_file("zeros.bin", options).unwrap();
        let megabyte = vec![0_u8; 1024 * 1024];
        for _ in 0..101 {
            zip.write_all(&megabyte).unwrap();
        }
        let mut bytes = zip.finish().unwrap().into_inner();
        let mut patched = 0;
        // Local header: size at 22, name length at 26, name at 30; central: 24, 28, 46.
        for (signature, size_at, name_len_at, name_at) in
            [([0x50, 0x4b, 0x03, 0x04], 22, 26, 30), ([0x50, 0x4b, 0x01, 0x02], 24, 28, 46)]
        {
            let starts: Vec<usize> = (0..bytes.len() - 4).filter(|&i| bytes[i..i + 4] == signature).collect();
            for start in starts {
                let name_len =
                    u16::from_le_bytes([bytes[start + name_len_at], bytes[start + name_len_at + 1]]);
                let name = &bytes[start + name_at..start + name_at + usize::from(name_len)];
                if name == b"zeros.bin" {
                    bytes[start + size_at..start + size_at + 4].copy_from_slice(&16_u32.to_le_bytes());
                    patched += 1;
                }
            }
        }
        assert_eq!(patched, 2, "both headers of zeros.bin claim 16 bytes");
        let archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        assert_eq!(archive.decompressed_size(), Some(16 + 8 + 13));
        bytes
    }

    #[test]
    fn a_package_whose_headers_understate_its_size_is_refused() {
        let result = merge_fields(&package_with_lying_headers());
        assert!(
            matches!(result, Err(DocumentError::DocxTooLarge(_) | DocumentError::InvalidDocx(_))),
            "{result:?}"
        );
    }

    #[test]
    fn only_body_headers_and_footers_are_scanned() {
        assert!(holds_fields("word/document.xml"));
        assert!(holds_fields("word/header1.xml"));
        assert!(holds_fields("word/footer12.xml"));
        assert!(!holds_fields("word/styles.xml"));
        assert!(!holds_fields("word/header1.xml.rels"));
        assert!(!holds_fields("word/_rels/header1.xml"));
    }
}
