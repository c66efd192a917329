#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crm_segments::fuzzing::docx_body_xml(data));
