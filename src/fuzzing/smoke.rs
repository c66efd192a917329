//! The fuzz targets' smoke pass on stable: every committed corpus input (seeds, and the inputs
//! that once failed), then a fixed number of deterministic mutations of them. Long runs are
//! `cargo fuzz`'s job (fuzz/README.md); this keeps the findings fixed and the targets compiling.

use std::path::PathBuf;

use super::TARGETS;

/// Mutated inputs per target; `FUZZ_SMOKE_RUNS` raises it for a longer pass on stable.
const DEFAULT_RUNS: usize = 300;

/// Inputs larger than this are not grown further by the mutator.
const MAX_LEN: usize = 64 * 1024;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

/// xorshift64*: a fixed sequence, so that a failing mutation fails on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes the targets' formats give meaning to, for the mutator to insert.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"-1",
    b"1e400",
    b"0.5",
    b"\\u0000",
    b"\"all\"",
    b"\"any\"",
    b"\"not\"",
    b"\"interactions\"",
    b"\"field\"",
    b"\"op\"",
    b"\"value\"",
    b"\"between\"",
    b"\"in\"",
    b"\"is_null\"",
    b"\"date\"",
    b"\"created_at\"",
    b"2024-02-30",
    b"9999-12-31T23:59:59Z",
    b"\n",
    b"\r\n",
    b";",
    b"\xEF\xBB\xBF",
    b"\xFF",
    b"<",
    b">",
    b"&amp;",
    b"<w:fldSimple w:instr=\" MERGEFIELD contact_name \"/>",
    b"<w:fldChar w:fldCharType=\"begin\"/>",
    b"<w:fldChar w:fldCharType=\"separate\"/>",
    b"<w:fldChar w:fldCharType=\"end\"/>",
    b"<w:instrText>",
    b"</w:instrText>",
    b"{{",
    b"}}",
    b"{%",
    b"%}",
    b"for x in range(1000) ",
    b"endfor",
    b"MERGEFIELD",
    b"\\* MERGEFORMAT",
    b"\\b \"x\"",
    b"PK\x03\x04",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 if !input.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            2 if input.len() < MAX_LEN => {
                let token = TOKENS[rng.below(TOKENS.len())];
                input.splice(at..at, token.iter().copied());
            }
            3 if !input.is_empty() && input.len() < MAX_LEN => {
                let start = rng.below(input.len());
                let end = (start + 1 + rng.below(64)).min(input.len());
                let chunk = input[start..end].to_vec();
                input.splice(at..at, chunk);
            }
            4 => input.truncate(at),
            _ => input.insert(at.min(input.len()), rng.next() as u8),
        }
    }
}

#[test]
fn every_target_passes_its_corpus_and_mutations_of_it() {
    let runs = std::env::var("FUZZ_SMOKE_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_RUNS);
    for (name, target) in TARGETS {
        let seeds = corpus(name);
        assert!(!seeds.is_empty(), "fuzz/corpus/{name} has seeds");
        for seed in &seeds {
            target(seed);
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        for run in 0..runs {
            let mut input = seeds[rng.below(seeds.len())].clone();
            mutate(&mut rng, &mut input);
            let outcome = std::panic::catch_unwind(|| target(&input));
            if outcome.is_err() {
                let path = std::env::temp_dir().join(format!("fuzz-smoke-{name}-{run}"));
                let _ = std::fs::write(&path, &input);
                panic!("fuzz target {name} failed on mutation {run}; the input is in {}", path.display());
            }
        }
    }
}
