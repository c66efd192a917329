#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crm_segments::fuzzing::text_template(data));
