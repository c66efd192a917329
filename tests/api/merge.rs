//! The merge engine against a real reader: each Word fixture merged, then converted by
//! LibreOffice, whose text must show the values and no field or placeholder. No database.
//!
//! Needs `soffice` on PATH (`apt-get install -y --no-install-recommends
//! libreoffice-writer-nogui`). Without it the tests say they are skipped and pass, except when
//! `CI` is set: there they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use crm_segments::documents::fields::MERGE_FIELDS;
use crm_segments::documents::{html_to_text, merge_docx, MergeValues};

const CONTACT_NAME: &str = r#"Ann O'Neil & <Partners> "Ltd""#;

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
        ("line_description", "Line one\nLine two"),
        ("line_date", "2024-03-05"),
        ("segment_no", "SEG-0042"),
        ("segment_description", "Spring campaign"),
        ("salesperson_name", "Bob Builder"),
    ] {
        values.set(name, Some(value.to_owned()));
    }
    values
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docx").join(name)).unwrap()
}

/// `soffice` on PATH; None (after saying so loudly) when it is missing outside CI.
fn soffice() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path).map(|dir| dir.join("soffice")).find(|file| file.is_file())
    });
    if found.is_none() {
        let install = "apt-get install -y --no-install-recommends libreoffice-writer-nogui";
        if std::env::var_os("CI").is_some() {
            panic!(
                "LibreOffice's soffice is not on PATH, and CI must run these tests; install it: {install}"
            );
        }
        eprintln!("\n*** SKIPPED: LibreOffice (soffice) is not on PATH, so merged documents are not opened. Install it: {install} ***\n");
    }
    found
}

/// A directory of its own for one conversion (and its LibreOffice profile, so conversions
/// running in parallel do not share one), removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("crm-segments-merge-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What LibreOffice reads in a document: its body as text (`txt:Text`), and with `everywhere`
/// also its headers, footers and text boxes (through its HTML export, which has them).
fn libreoffice_text(soffice: &Path, name: &str, docx: &[u8], everywhere: bool) -> String {
    let scratch = Scratch::new(name);
    let input = scratch.0.join(name);
    std::fs::write(&input, docx).unwrap();
    let profile = format!("-env:UserInstallation=file://{}", scratch.0.join("profile").display());
    let mut text = String::new();
    let formats: &[(&str, &str)] =
        if everywhere { &[("txt:Text", "txt"), ("html", "html")] } else { &[("txt:Text", "txt")] };
    for (filter, extension) in formats {
        let output = Command::new(soffice)
            .args([&profile, "--headless", "--convert-to", filter, "--outdir"])
            .arg(&scratch.0)
            .arg(&input)
            .output()
            .unwrap();
        let converted = input.with_extension(extension);
        assert!(
            output.status.success() && converted.is_file(),
            "LibreOffice could not open {name}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let converted = std::fs::read_to_string(converted).unwrap();
        text.push_str(&if *extension == "html" { html_to_text(&converted) } else { converted });
        text.push('\n');
    }
    text
}

/// Merges a fixture, has LibreOffice read it, and checks what it reads: each expected line, and
/// no field or placeholder left.
fn assert_merged_reads(name: &str, everywhere: bool, expected: &[&str]) {
    let Some(soffice) = soffice() else { return };
    let merged = merge_docx(&fixture(name), &values()).unwrap();
    let text = libreoffice_text(&soffice, name, &merged, everywhere);
    let lines: Vec<&str> = text.lines().map(|line| line.trim_start_matches('\u{feff}').trim()).collect();
    for line in expected {
        assert!(lines.contains(line), "{name}: LibreOffice does not read {line:?} in:\n{text}");
    }
    assert_eq!(leftovers(&text), Vec::<String>::new(), "{name}: fields left in:\n{text}");
}

/// The field codes and placeholders (`«contact_name»`, `<contact_name>`) a text still shows.
fn leftovers(text: &str) -> Vec<String> {
    let text = text.to_lowercase();
    let placeholders = MERGE_FIELDS.iter().flat_map(|field| [format!("«{field}»"), format!("<{field}>")]);
    std::iter::once("mergefield".to_owned())
        .chain(placeholders)
        .filter(|code| text.contains(code.as_str()))
        .collect()
}

#[test]
fn libreoffice_shows_the_placeholders_of_unmerged_templates_so_the_check_can_fail() {
    let Some(soffice) = soffice() else { return };
    for (name, placeholder) in
        [("simple_field.docx", "«contact_name»"), ("libreoffice.docx", "<contact_name>")]
    {
        let text = libreoffice_text(&soffice, &format!("template-{name}"), &fixture(name), false);
        assert!(leftovers(&text).contains(&placeholder.to_owned()), "{name}: {text}");
    }
}

#[test]
fn libreoffice_reads_merged_simple_fields() {
    let greeting = format!("Dear {CONTACT_NAME},");
    assert_merged_reads(
        "simple_field.docx",
        false,
        &[&greeting, "Our reference: SEG-0042", "Salesperson: Bob Builder."],
    );
}

#[test]
fn libreoffice_reads_merged_complex_fields_split_across_runs() {
    assert_merged_reads(
        "complex_split.docx",
        false,
        &["Hello Ann!", "Re: Spring offer (see below)", "City: Köln.", "Note: Line one", "Line two"],
    );
}

#[test]
fn libreoffice_reads_values_shaped_by_switches() {
    assert_merged_reads(
        "switches.docx",
        false,
        &[
            r#"upper: ANN O'NEIL & <PARTNERS> "LTD""#,
            r#"lower: ann o'neil & <partners> "ltd""#,
            "caps: Van Der Berg",
            "firstcap: Van der berg",
            "greeting: Dear Ann,",
            "empty:[]",
            "date: 05.03.2024",
            "long date: Tuesday, 5 March 2024",
            "short date: 5 MAR 24",
        ],
    );
}

#[test]
fn libreoffice_reads_merged_fields_with_formatted_results() {
    assert_merged_reads("formatted_result.docx", false, &["Subject: Spring offer", "From: Bob Builder"]);
}

#[test]
fn libreoffice_reads_merged_headers_and_footers() {
    let body = format!("Body for {CONTACT_NAME}");
    assert_merged_reads(
        "header_footer.docx",
        true,
        &[&body, "Campaign: Spring campaign", "Your contact: Bob Builder - page 1"],
    );
}

#[test]
fn libreoffice_reads_page_fields_next_to_merged_ones() {
    let line = format!("For {CONTACT_NAME}");
    assert_merged_reads("page_field.docx", false, &["Page 1 of 1", &line]);
}

#[test]
fn libreoffice_reads_the_result_of_an_if_on_a_merged_field() {
    let line = format!("Sehr geehrte(r) {CONTACT_NAME},");
    assert_merged_reads("nested_if.docx", false, &[&line]);
}

#[test]
fn libreoffice_reads_merged_fields_in_text_boxes() {
    let line = format!("Letter for {CONTACT_NAME}");
    assert_merged_reads("text_box.docx", true, &["Main Street 1", "Second floor", "Köln", &line]);
}

#[test]
fn libreoffice_reads_a_merged_package_that_libreoffice_wrote() {
    let greeting = format!("Dear {CONTACT_NAME},");
    assert_merged_reads(
        "libreoffice.docx",
        true,
        &[&greeting, "Subject: Spring offer", "Campaign: Spring campaign"],
    );
}
