use std::io::Read;

use proptest::prelude::*;
use quick_xml::events::Event;

use super::*;
use crate::documents::docx;

const CONTACT_NAME: &str = r#"Ann O'Neil & <Partners> "Ltd""#;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/docx/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (run tests/fixtures/docx/make_fixtures.py)"))
}

fn values() -> MergeValues {
    let mut values = MergeValues::new();
    for (name, value) in [
        ("contact_name", CONTACT_NAME),
        ("contact_first_name", "Ann"),
        ("contact_surname", "van der berg"),
        ("contact_city", "Köln"),
        ("contact_address", "Main Street 1\nSecond floor"),
        ("contact_country_code", "DE"),
        ("line_subject", "Spring offer"),
        ("line_description", "Line one\r\nLine two\tTabbed"),
        ("line_date", "2024-03-05"),
        ("segment_no", "SEG-0042"),
        ("segment_description", "Spring campaign"),
        ("salesperson_name", "Bob Builder"),
    ] {
        values.set(name, Some(value.to_owned()));
    }
    values.set("contact_job_title", None);
    values
}

fn entry(package: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package)).unwrap();
    let mut text = String::new();
    archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}

/// The merged body (or other part) of a fixture merged with [`values`].
fn merged(fixture_name: &str, part: &str) -> String {
    entry(&merge_docx(&fixture(fixture_name), &values()).unwrap(), part)
}

/// The text of each paragraph (`w:t` text, `w:br` as a line break, `w:tab` as a tab); reading
/// it also checks that the XML is well-formed.
fn paragraphs(xml: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut paragraphs, mut in_text) = (Vec::new(), false);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.name().as_ref() == "w:p" => paragraphs.push(String::new()),
            Event::Start(e) if e.name().as_ref() == "w:t" => in_text = true,
            Event::End(e) if e.name().as_ref() == "w:t" => in_text = false,
            Event::Empty(e) if e.name().as_ref() == "w:br" => paragraphs.last_mut().unwrap().push('\n'),
            Event::Empty(e) if e.name().as_ref() == "w:tab" => paragraphs.last_mut().unwrap().push('\t'),
            Event::Text(text) if in_text => paragraphs.last_mut().unwrap().push_str(&text.xml10_content()),
            Event::GeneralRef(reference) if in_text => {
                paragraphs.last_mut().unwrap().push_str(&docx::resolve(&reference).unwrap())
            }
            Event::Eof => return paragraphs,
            _ => {}
        }
    }
}

/// The instruction text of the part, all fields' together.
fn instructions(xml: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut instructions, mut inside) = (String::new(), false);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.name().as_ref() == "w:instrText" => inside = true,
            Event::End(e) if e.name().as_ref() == "w:instrText" => inside = false,
            Event::Text(text) if inside => instructions.push_str(&text.xml10_content()),
            Event::GeneralRef(reference) if inside => {
                instructions.push_str(&docx::resolve(&reference).unwrap())
            }
            Event::Eof => return instructions,
            _ => {}
        }
    }
}

fn assert_no_merge_machinery(xml: &str) {
    for leftover in ["MERGEFIELD", "fldChar", "instrText", "fldSimple", "«", "»"] {
        assert!(!xml.contains(leftover), "{leftover} is left in {xml}");
    }
}

#[test]
fn values_are_set_and_read_without_case() {
    let mut values = MergeValues::new();
    values.set("Contact_Name", Some("Ann".into()));
    assert_eq!(values.get("contact_name"), Some("Ann"));
    assert_eq!(values.get("CONTACT_NAME"), Some("Ann"));
    values.set("contact_name", None);
    assert_eq!(values, MergeValues::new());
}

#[test]
fn a_simple_field_becomes_one_run_with_its_result_runs_formatting_and_the_value_escaped() {
    let xml = merged("simple_field.docx", "word/document.xml");
    assert!(xml.contains(
        r#"<w:r><w:t xml:space="preserve">Dear </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">Ann O&apos;Neil &amp; &lt;Partners&gt; &quot;Ltd&quot;</w:t></w:r><w:r><w:t xml:space="preserve">,</w:t></w:r>"#
    ), "{xml}");
    assert_no_merge_machinery(&xml);
    assert_eq!(
        paragraphs(&xml),
        [
            format!("Dear {CONTACT_NAME},"),
            "Our reference: SEG-0042".into(),
            "Salesperson: Bob Builder.".into()
        ]
    );
}

#[test]
fn a_complex_field_split_across_runs_is_merged_and_what_stands_between_its_runs_is_kept() {
    let xml = merged("complex_split.docx", "word/document.xml");
    assert_no_merge_machinery(&xml);
    let plain = r#"<w:rPr><w:rFonts w:ascii="Arial" w:hAnsi="Arial"/></w:rPr>"#;
    assert!(xml.contains(&format!(
        r#"<w:bookmarkStart w:id="0" w:name="greeting"/><w:proofErr w:type="spellStart"/><w:r>{plain}<w:t xml:space="preserve">Ann</w:t></w:r><w:bookmarkEnd w:id="0"/>"#
    )), "{xml}");
    // A field inside one run with text around it: the run is split around the value.
    let underlined = r#"<w:rPr><w:u w:val="single"/></w:rPr>"#;
    assert!(xml.contains(&format!(
        r#"<w:r>{underlined}<w:t xml:space="preserve">Re: </w:t></w:r><w:r>{underlined}<w:t xml:space="preserve">Spring offer</w:t></w:r><w:r>{underlined}<w:t xml:space="preserve"> (see below)</w:t></w:r>"#
    )), "{xml}");
    assert_eq!(
        paragraphs(&xml),
        ["Hello Ann!", "Re: Spring offer (see below)", "City: Köln.", "Note: Line one\nLine two\tTabbed"]
    );
    assert!(xml.contains(
        r#"<w:t xml:space="preserve">Line one</w:t><w:br/><w:t xml:space="preserve">Line two</w:t><w:tab/><w:t xml:space="preserve">Tabbed</w:t>"#
    ));
}

#[test]
fn switches_shape_the_value() {
    let xml = merged("switches.docx", "word/document.xml");
    assert_no_merge_machinery(&xml);
    assert_eq!(
        paragraphs(&xml),
        [
            r#"upper: ANN O'NEIL & <PARTNERS> "LTD""#,
            r#"lower: ann o'neil & <partners> "ltd""#,
            "caps: Van Der Berg",
            "firstcap: Van der berg",
            "greeting: Dear Ann,",
            "empty:[]",
            "date: 05.03.2024",
            "long date: Tuesday, 5 March 2024",
            "short date: 5 MAR 24",
        ]
    );
}

#[test]
fn fields_without_values_merge_as_nothing_even_with_text_before_and_after() {
    let xml =
        entry(&merge_docx(&fixture("switches.docx"), &MergeValues::new()).unwrap(), "word/document.xml");
    assert_no_merge_machinery(&xml);
    let paragraphs = paragraphs(&xml);
    assert_eq!(paragraphs[4], "greeting: ");
    assert_eq!(paragraphs[5], "empty:[]");
    assert!(!xml.contains("Position") && !xml.contains("Dear"));
}

#[test]
fn the_merged_run_carries_the_formatting_of_the_fields_result_run() {
    let xml = merged("formatted_result.docx", "word/document.xml");
    assert_no_merge_machinery(&xml);
    assert!(xml.contains(
        r#"<w:r><w:rPr><w:b/><w:i/><w:color w:val="C00000"/></w:rPr><w:t xml:space="preserve">Spring offer</w:t></w:r>"#
    ), "{xml}");
    assert!(xml.contains(
        r#"<w:r><w:rPr><w:i/><w:color w:val="1F4E79"/></w:rPr><w:t xml:space="preserve">Bob Builder</w:t></w:r>"#
    ), "{xml}");
}

#[test]
fn headers_and_footers_are_merged_and_their_page_field_is_kept() {
    let merged_package = merge_docx(&fixture("header_footer.docx"), &values()).unwrap();
    let header = entry(&merged_package, "word/header1.xml");
    let footer = entry(&merged_package, "word/footer1.xml");
    assert_eq!(paragraphs(&header), ["Campaign: Spring campaign"]);
    assert_eq!(paragraphs(&footer), ["Your contact: Bob Builder - page 1"]);
    assert_no_merge_machinery(&header);
    assert_eq!(instructions(&footer), r" PAGE \* MERGEFORMAT ");
    assert_eq!(footer.matches("<w:fldChar ").count(), 3);
}

#[test]
fn fields_other_than_mergefields_stay_exactly_as_they_are() {
    let template = entry(&fixture("page_field.docx"), "word/document.xml");
    let xml = merged("page_field.docx", "word/document.xml");
    let body_start = template.find("<w:p>").unwrap();
    let merge_paragraph = template.find("<w:p><w:r><w:t xml:space=\"preserve\">For </w:t>").unwrap();
    // The PAGE, NUMPAGES and DATE paragraphs, byte for byte.
    assert!(xml.contains(&template[body_start..merge_paragraph]));
    assert_eq!(paragraphs(&xml)[2], format!("For {CONTACT_NAME}"));
    assert!(!xml.contains("MERGEFIELD"));
}

#[test]
fn a_mergefield_nested_in_an_if_is_substituted_in_its_instruction_and_the_if_result_follows() {
    let xml = merged("nested_if.docx", "word/document.xml");
    let quoted_name = r#"Ann O'Neil & <Partners> \"Ltd\""#;
    assert_eq!(
        instructions(&xml),
        format!(r#" IF "DE" = "DE" "Sehr geehrte(r) {quoted_name}" "Dear {quoted_name}" "#)
    );
    assert_eq!(paragraphs(&xml), [format!("Sehr geehrte(r) {CONTACT_NAME},")]);
    assert_eq!(xml.matches("<w:fldChar ").count(), 3, "the IF field stays, its nested fields go");
    assert!(!xml.contains("MERGEFIELD") && !xml.contains('«'));

    let mut british = values();
    british.set("contact_country_code", Some("GB".into()));
    let xml = entry(&merge_docx(&fixture("nested_if.docx"), &british).unwrap(), "word/document.xml");
    assert_eq!(paragraphs(&xml), [format!("Dear {CONTACT_NAME},")]);
}

#[test]
fn fields_in_a_text_box_are_merged() {
    let xml = merged("text_box.docx", "word/document.xml");
    assert_no_merge_machinery(&xml);
    assert_eq!(
        paragraphs(&xml),
        ["", "Main Street 1\nSecond floor", "Köln", &format!("Letter for {CONTACT_NAME}")]
    );
}

#[test]
fn a_package_written_by_libreoffice_is_merged() {
    let merged_package = merge_docx(&fixture("libreoffice.docx"), &values()).unwrap();
    let xml = entry(&merged_package, "word/document.xml");
    assert!(xml.contains(
        r#"<w:r><w:rPr><w:b/><w:color w:val="C00000"/></w:rPr><w:t xml:space="preserve">Ann O&apos;Neil &amp; &lt;Partners&gt; &quot;Ltd&quot;</w:t></w:r>"#
    ), "{xml}");
    assert_eq!(
        paragraphs(&xml),
        [format!("Dear {CONTACT_NAME},"), "Subject: Spring offer".into(), "Page 1".into()]
    );
    assert_eq!(instructions(&xml), " PAGE ");
    assert_eq!(paragraphs(&entry(&merged_package, "word/header1.xml")), ["Campaign: Spring campaign"]);
}

#[test]
fn merged_packages_hold_no_merge_fields_and_pass_the_upload_checks() {
    for name in [
        "simple_field.docx",
        "complex_split.docx",
        "switches.docx",
        "formatted_result.docx",
        "header_footer.docx",
        "page_field.docx",
        "nested_if.docx",
        "text_box.docx",
        "libreoffice.docx",
    ] {
        let template = fixture(name);
        assert!(!docx::merge_fields(&template).unwrap().is_empty(), "{name} has fields");
        let merged = merge_docx(&template, &values()).unwrap();
        assert_eq!(docx::merge_fields(&merged), Ok(vec![]), "{name}");
    }
}

#[test]
fn merging_is_deterministic_and_copies_unchanged_entries_without_recompressing() {
    let template = fixture("libreoffice.docx");
    let first = merge_docx(&template, &values()).unwrap();
    let mut same_values = MergeValues::new();
    for name in crate::documents::fields::MERGE_FIELDS.iter().rev() {
        same_values.set(name, values().get(name).map(str::to_owned));
    }
    assert_eq!(merge_docx(&template, &same_values).unwrap(), first);
    assert_ne!(merge_docx(&template, &MergeValues::new()).unwrap(), first);

    let raw = |package: &[u8], name: &str| {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package)).unwrap();
        let names: Vec<String> = archive.file_names().map(|name| name.unwrap().into_owned()).collect();
        let mut bytes = Vec::new();
        archive.by_name_raw(name.as_bytes()).unwrap().read_to_end(&mut bytes).unwrap();
        (names, bytes)
    };
    let (template_names, template_styles) = raw(&template, "word/styles.xml");
    let (merged_names, merged_styles) = raw(&first, "word/styles.xml");
    assert_eq!(merged_names, template_names, "the entries keep their order");
    assert_eq!(merged_styles, template_styles);
}

#[test]
fn what_is_not_a_word_package_is_refused() {
    assert!(matches!(merge_docx(b"not a zip", &values()), Err(DocumentError::InvalidDocx(_))));
    let broken = part::merge_part("word/document.xml", b"<w:document><w:body>", &values());
    assert!(matches!(broken, Err(DocumentError::InvalidDocx(_))), "{broken:?}");
}

#[test]
fn elements_of_other_namespaces_are_not_runs_and_a_default_namespace_is_kept() {
    let xml = r#"<document xmlns="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:m="urn:math"><body><p><m:r><fldSimple instr="MERGEFIELD contact_city"/></m:r><fldSimple instr=" MERGEFIELD segment_no "><r><rPr><b/></rPr><t>«segment_no»</t></r></fldSimple></p></body></document>"#;
    let out = part::merge_part("word/document.xml", xml.as_bytes(), &values()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"<document xmlns="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:m="urn:math"><body><p><m:r><r><t xml:space="preserve">Köln</t></r></m:r><r><rPr><b/></rPr><t xml:space="preserve">SEG-0042</t></r></p></body></document>"#
    );
}

#[test]
fn html_and_text_documents_render_with_missing_values_empty() {
    let html = b"<p>Dear {{ contact_name }}{{ contact_job_title }},</p>";
    assert_eq!(
        render_text(DocumentKind::Html, html, &values()).unwrap(),
        "<p>Dear Ann O&#x27;Neil &amp; &lt;Partners&gt; &quot;Ltd&quot;,</p>"
    );
    assert_eq!(render_text(DocumentKind::Text, b"{{ segment_no }}!", &MergeValues::new()).unwrap(), "!");
    assert!(matches!(
        render_text(DocumentKind::Docx, b"", &values()),
        Err(DocumentError::InvalidTemplate(_))
    ));
}

/// What a value reads as once merged: characters XML 1.0 does not allow dropped, line ends as
/// one line break.
fn as_merged(value: &str) -> String {
    let allowed: String = value
        .chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
        .collect();
    allowed.replace("\r\n", "\n").replace('\r', "\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_value_merges_into_well_formed_xml_that_reads_as_the_value(
        value in proptest::collection::vec(
            prop_oneof![
                any::<char>(),
                Just('<'), Just('>'), Just('&'), Just('"'), Just('\''),
                Just('\n'), Just('\r'), Just('\t'), Just('ß'), Just('€'), Just('😀'), Just('\u{1}'), Just('\u{FFFE}'),
            ],
            0..40,
        ).prop_map(|chars| chars.into_iter().collect::<String>())
    ) {
        let mut values = MergeValues::new();
        values.set("contact_name", Some(value.clone()));
        let xml = entry(&merge_docx(&fixture("simple_field.docx"), &values).unwrap(), "word/document.xml");
        prop_assert_eq!(&paragraphs(&xml)[0], &format!("Dear {},", as_merged(&value)));
    }
}
