//! The fuzz target (`fuzz/fuzz_targets/frames.rs`) as a bounded, deterministic stress test on
//! stable: a fixed-seed generator mutates valid requests and makes random frame streams; every
//! input must be served without a panic and every answer must be a well-formed frame.
//! `LATCHKEY_STRESS_ITERATIONS` (default 3000) sets the number of inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_host::fuzz::fuzz_one;

/// xorshift64*: deterministic, no dependency.
struct Gen(u64);
impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

const SEEDS: &[&str] = &[
    r#"{"id":1,"type":"hello","protocolVersion":1}"#,
    r#"{"id":2,"type":"verify-user","reason":"Unlock","parentWindow":7}"#,
    r#"{"id":3,"type":"os-key-create","keyId":"v1","challenge":"AQID","replace":true}"#,
    r#"{"id":4,"type":"os-key-release","keyId":"v1"}"#,
    r#"{"id":5,"type":"platform-create","origin":"https://a.example","options":{"challenge":"AA","rp":{"name":"x"},"user":{"id":"AQ","name":"a","displayName":"A"},"pubKeyCredParams":[]}}"#,
    r#"{"id":6,"type":"platform-get","origin":"https://a.example","options":{"challenge":"AA"},"attachment":"platform"}"#,
    r#"{"id":7,"type":"cancel","requestId":2}"#,
];

fn frame(body: &[u8], out: &mut Vec<u8>) {
    out.extend(u32::try_from(body.len()).unwrap().to_ne_bytes());
    out.extend(body);
}

fn mutate(g: &mut Gen, mut v: Vec<u8>) -> Vec<u8> {
    for _ in 0..=g.below(4) {
        if v.is_empty() {
            v.push(b'{');
        }
        let i = g.below(v.len());
        match g.below(5) {
            0 => v[i] = u8::try_from(g.below(256)).unwrap(),
            1 => {
                v.remove(i);
            }
            2 => v.insert(i, b"{}[]\":,0-9eE\\u\x00\xff"[g.below(16)]),
            3 => v.truncate(i),
            _ => {
                let j = g.below(v.len());
                let chunk = v[i.min(j)..i.max(j)].to_vec();
                v.splice(i..i, chunk);
            }
        }
    }
    v
}

#[test]
fn any_frame_stream_is_served_without_panic() {
    let n: usize = std::env::var("LATCHKEY_STRESS_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut g = Gen(0x1a7c_4b3e_9d2f_0815);
    let mut answers = 0;
    for _ in 0..n {
        let mut stream = Vec::new();
        match g.below(4) {
            // Valid frames, hello first, some mutated.
            0 | 1 => {
                frame(SEEDS[0].as_bytes(), &mut stream);
                for _ in 0..=g.below(5) {
                    let seed = SEEDS[g.below(SEEDS.len())].as_bytes().to_vec();
                    let body = if g.below(2) == 0 {
                        mutate(&mut g, seed)
                    } else {
                        seed
                    };
                    frame(&body, &mut stream);
                }
            }
            // Raw random bytes (random length prefixes included).
            2 => {
                stream = (0..g.below(64))
                    .map(|_| u8::try_from(g.below(256)).unwrap())
                    .collect()
            }
            // A valid frame then a lying length.
            _ => {
                frame(SEEDS[0].as_bytes(), &mut stream);
                stream.extend(u32::try_from(g.below(1 << 22)).unwrap().to_ne_bytes());
                stream.extend(b"{\"id\":");
            }
        }
        let r = fuzz_one(&stream);
        assert_ne!(r, usize::MAX, "malformed answer for input {stream:?}");
        answers += r;
    }
    eprintln!("stress: {n} inputs, {answers} answers");
    // The raw parser alone, on the deep-nesting and huge-number corner cases.
    for s in [
        "[".repeat(100_000),
        "1".repeat(100_000),
        format!("{{\"id\":1,\"type\":\"{}\"}}", "\\u0000".repeat(10_000)),
    ] {
        assert_ne!(fuzz_one(s.as_bytes()), usize::MAX);
    }
}

/// The checked-in corpus of the `frames` fuzz target (fuzz/corpus/frames) through the whole serve
/// loop, as the fuzzer runs it.
#[test]
fn the_frames_fuzz_corpus_is_served_without_a_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/frames");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/frames") {
        let path = entry.unwrap().path();
        let answers = fuzz_one(&std::fs::read(&path).unwrap());
        assert_ne!(
            answers,
            usize::MAX,
            "malformed answer for {}",
            path.display()
        );
        n += 1;
    }
    assert!(n > 0, "no corpus files in {}", dir.display());
}
