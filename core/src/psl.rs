//! The [Public Suffix List](https://publicsuffix.org/) (ICANN and private sections), compiled by
//! `scripts/psl.mjs` from `psl/public_suffix_list.dat` into a minimised automaton (DAFSA), Huffman-coded
//! (37 KB, against 76 KB for the public-suffix crate's table it replaced; format in core/README.md).
//!
//! [`public_suffix`] answers exactly as the public-suffix crate 0.1.3 (a port of Go's
//! `x/net/publicsuffix`) does for the same list: it walks the list's label trie from the TLD, where a
//! normal rule extends the suffix, a `*.` rule takes the next label too, an `!` exception ends the
//! suffix below itself, and a host no rule matches has its last label as suffix (the implicit `*`
//! rule). The tests compare both over every name of the list.

/// The automaton: see `scripts/psl.mjs` (writer) and core/README.md (format).
static DAFSA: &[u8] = include_bytes!("psl/psl.dafsa");

/// Value bits stored for every trie node (see `scripts/psl.mjs`).
const TYPE_MASK: u8 = 3;
const NORMAL: u8 = 0;
const EXCEPTION: u8 = 1;
const WILDCARD: u8 = 4;
const NO_VALUE: u8 = 7;

/// A reader of the automaton's bits (most significant bit of each byte first). A peek past the end
/// reads zeros (the last symbols' windows reach beyond it), but no symbol starts there
/// ([`Code::decode`]); the automaton is a constant, `psl::tests` walk all of it (every name, and a
/// neighbour of each), and the writer checks the widths the reader assumes.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    /// The next 25 bits, first bit highest (in bit 31); the position does not move.
    fn peek(&self) -> u32 {
        let mut window = 0u32;
        for k in 0..4 {
            window =
                window << 8 | u32::from(self.data.get((self.pos >> 3) + k).copied().unwrap_or(0));
        }
        window << (self.pos & 7)
    }

    /// The next `n` bits (at most 25) as a number.
    fn bits(&mut self, n: usize) -> usize {
        let value = (u64::from(self.peek()) >> (32 - n)) as usize;
        self.pos += n;
        value
    }
}

/// A canonical Huffman code (as in [RFC 1951 §3.2.2](https://www.rfc-editor.org/rfc/rfc1951#section-3.2.2),
/// decoded the way zlib's `puff` does): how many codes each length has, and the symbols by code.
struct Code<'a> {
    per_length: &'a [u8],
    symbols: &'a [u8],
}

impl Code<'_> {
    /// Reads `[max length, symbol count, count per length 1..=max, the symbols]` at `at`; returns the
    /// code and the offset after it.
    fn read(data: &[u8], at: usize) -> Option<(Code<'_>, usize)> {
        let max = usize::from(*data.get(at)?);
        let end = at + 2 + max + usize::from(*data.get(at + 1)?);
        Some((
            Code {
                per_length: data.get(at + 2..at + 2 + max)?,
                symbols: data.get(at + 2 + max..end)?,
            },
            end,
        ))
    }

    /// The next symbol; `None` at or past the end of the data, so that every walk ends even on an
    /// automaton that does not match its writer's checks (each symbol read moves on by at least a bit).
    fn decode(&self, bits: &mut Bits<'_>) -> Option<usize> {
        if bits.pos >= 8 * bits.data.len() {
            return None;
        }
        let window = bits.peek();
        let (mut code, mut first, mut index) = (0, 0, 0);
        for (length, &count) in self.per_length.iter().enumerate() {
            code |= (window >> (31 - length) & 1) as usize;
            let count = usize::from(count);
            if code < first + count {
                bits.pos += length + 1;
                return self
                    .symbols
                    .get(index + code - first)
                    .map(|&s| usize::from(s));
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        None
    }
}

/// Where an edge leads: a node at a bit offset, or a leaf (a node with a value and no edges).
#[derive(Clone, Copy)]
enum Target {
    Node(usize),
    Leaf(u8),
}

/// A walk down the automaton along a name read backwards, which reports the value of each name it
/// passes: one walk answers for every label suffix of a host (`com`, `example.com`, …).
struct Walk<'a> {
    headers: Code<'a>,
    firsts: Code<'a>,
    labels: Code<'a>,
    targets: Code<'a>,
    hub_count: usize,
    hub_width: usize,
    /// Where the nodes start, in bits.
    base: usize,
    bits: Bits<'a>,
    /// The node reached.
    at: Target,
    name: &'a [u8],
    /// `name[..left]` is still to be read.
    left: usize,
}

impl<'a> Walk<'a> {
    fn new(dafsa: &'a [u8], name: &'a [u8]) -> Option<Walk<'a>> {
        let hub_count = usize::from(*dafsa.first()?);
        let hub_width = usize::from(*dafsa.get(1)?);
        let (headers, at) = Code::read(dafsa, 2 + (hub_count * hub_width).div_ceil(8))?;
        let (firsts, at) = Code::read(dafsa, at)?;
        let (labels, at) = Code::read(dafsa, at)?;
        let (targets, at) = Code::read(dafsa, at)?;
        Some(Walk {
            headers,
            firsts,
            labels,
            targets,
            hub_count,
            hub_width,
            base: 8 * at,
            bits: Bits {
                data: dafsa,
                pos: 8 * at,
            },
            at: Target::Node(8 * at),
            name,
            left: name.len(),
        })
    }

    /// Reads on until `name[..stop]` is left, and answers the value stored for `name[stop..]`, if it
    /// is a name of the set. `stop` only decreases from call to call; after `None`, no longer name is
    /// in the set either (every parent of a name is one).
    fn value(&mut self, stop: usize) -> Option<u8> {
        let first_hub = usize::from(NO_VALUE);
        let first_distance = first_hub + self.hub_count;
        loop {
            let node = match self.at {
                Target::Leaf(v) => return (self.left == stop).then_some(v),
                Target::Node(node) => node,
            };
            self.bits.pos = node;
            let header = self.headers.decode(&mut self.bits)?;
            let value = (header & 7) as u8;
            if self.left == stop {
                return (value != NO_VALUE).then_some(value);
            }
            let follow = header & 8 != 0;
            let mut edges = header >> 4;
            let mut more = edges;
            while more == 15 {
                more = self.headers.decode(&mut self.bits)? >> 4;
                edges += more;
            }
            let c = usize::from(*self.name.get(self.left.checked_sub(1)?)?);
            let mut found = None;
            for i in 0..edges {
                // The edges' first characters differ: only the edge starting with `c` can match.
                let mut symbol = self.firsts.decode(&mut self.bits)?;
                let matched = symbol & 0x7f == c;
                if matched {
                    self.left -= 1;
                }
                while symbol & 0x80 == 0 {
                    symbol = self.labels.decode(&mut self.bits)?;
                    if matched {
                        // The name ends, or `stop` falls, inside the label: not a name of the set.
                        if self.left == stop
                            || self
                                .name
                                .get(self.left.checked_sub(1)?)
                                .map(|&b| usize::from(b))
                                != Some(symbol & 0x7f)
                        {
                            return None;
                        }
                        self.left -= 1;
                    }
                }
                let target = if follow && i + 1 == edges {
                    Target::Node(self.bits.pos)
                } else {
                    let start = self.bits.pos;
                    let t = self.targets.decode(&mut self.bits)?;
                    if t < first_hub {
                        Target::Leaf(t as u8)
                    } else if t < first_distance {
                        let mut hub = Bits {
                            data: self.bits.data,
                            pos: 16 + (t - first_hub) * self.hub_width,
                        };
                        Target::Node(self.base + hub.bits(self.hub_width))
                    } else {
                        // The distance d in n bits: d + 1 = 1 << n | the bits.
                        let n = t - first_distance;
                        Target::Node(start + (1 << n | self.bits.bits(n)) - 1)
                    }
                };
                if matched {
                    found = Some(target);
                    break;
                }
            }
            self.at = found?;
        }
    }
}

/// The value stored for `name` (a node of the list's trie), if it is one.
#[cfg(test)]
fn lookup(dafsa: &[u8], name: &[u8]) -> Option<u8> {
    Walk::new(dafsa, name)?.value(0)
}

/// The byte offset in `domain` (ASCII, lower case) where its public suffix starts.
fn suffix_start(dafsa: &[u8], domain: &str) -> usize {
    let after = |dot: Option<usize>| dot.map_or(0, |d| d + 1);
    let mut start = domain.len();
    let mut wildcard = false;
    let mut end = domain.len();
    let mut walk = Walk::new(dafsa, domain.as_bytes());
    loop {
        // Bytes, not `str` indexing (see `json::Parser::slice`); the domain is ASCII.
        let dot = domain.as_bytes()[..end].iter().rposition(|&b| b == b'.');
        let label = after(dot);
        if wildcard {
            start = label;
        }
        let Some(value) = walk.as_mut().and_then(|w| w.value(label)) else {
            break;
        };
        match value & TYPE_MASK {
            NORMAL => start = label,
            EXCEPTION => {
                // The suffix starts after the exception's own label. (`min`: a one-label exception
                // rule, which the generator refuses, would otherwise point past the end.)
                start = (end + 1).min(domain.len());
                break;
            }
            _ => {}
        }
        wildcard = value & WILDCARD != 0;
        match dot {
            Some(d) => end = d,
            None => break,
        }
    }
    if start == domain.len() {
        // No rule matched: the prevailing rule is "*".
        start = after(domain.rfind('.'));
    }
    start
}

/// The public suffix of `domain` (ASCII, lower case, punycode for IDNs), e.g. `co.uk` for
/// `www.example.co.uk`, `github.io` for `github.io`, `test` for `a.test` (unknown TLD).
#[must_use]
pub fn public_suffix(domain: &str) -> &str {
    &domain[suffix_start(DAFSA, domain)..]
}

/// Whether `domain` (ASCII, lower case) is itself a public suffix (`com`, `co.uk`, `github.io`, any
/// single label). A name with an empty label (leading, trailing or double dot) is not.
#[must_use]
pub fn is_public_suffix(domain: &str) -> bool {
    // `windows`, not `contains("..")`: a `str` pattern search links `str` indexing's panic paths.
    if domain.starts_with('.')
        || domain.ends_with('.')
        || domain.as_bytes().windows(2).any(|w| w == b"..")
    {
        return false;
    }
    suffix_start(DAFSA, domain) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use public_suffix::DEFAULT_PROVIDER;
    use std::collections::BTreeMap;

    const LIST: &str = include_str!("psl/public_suffix_list.dat");

    /// The list's trie nodes and their values, built the way scripts/psl.mjs does (ASCII rules only:
    /// the committed list is all punycode).
    fn node_values() -> BTreeMap<String, u8> {
        let mut nodes: BTreeMap<String, (u8, bool)> = BTreeMap::new();
        for line in LIST.lines() {
            let rule = line.split_whitespace().next().unwrap_or("");
            if rule.is_empty() || rule.starts_with("//") {
                continue;
            }
            assert!(rule.is_ascii(), "{rule}");
            let (name, kind) = if let Some(n) = rule.strip_prefix('!') {
                (n, 'e')
            } else if let Some(n) = rule.strip_prefix("*.") {
                (n, 'w')
            } else {
                (rule, 'n')
            };
            let labels: Vec<&str> = name.split('.').collect();
            for k in 1..=labels.len() {
                nodes
                    .entry(labels[labels.len() - k..].join("."))
                    .or_insert((2, false));
            }
            let node = nodes.get_mut(name).unwrap();
            match kind {
                'e' => node.0 = EXCEPTION,
                'w' => node.1 = true,
                _ => node.0 = NORMAL,
            }
        }
        nodes
            .into_iter()
            .map(|(n, (t, w))| (n, t | if w { WILDCARD } else { 0 }))
            .collect()
    }

    #[test]
    fn the_automaton_holds_exactly_the_lists_names() {
        // Catches a psl.dafsa not regenerated after an edit of the list (node scripts/psl.mjs).
        let nodes = node_values();
        assert_eq!(nodes.len(), 10_124);
        for (name, value) in &nodes {
            assert_eq!(lookup(DAFSA, name.as_bytes()), Some(*value), "{name}");
            for other in [
                format!("x{name}"),
                format!("x.{name}"),
                name[1..].to_owned(),
            ] {
                assert_eq!(
                    lookup(DAFSA, other.as_bytes()),
                    nodes.get(&other).copied(),
                    "{other}"
                );
            }
        }
        assert_eq!(lookup(DAFSA, b""), None);
        assert_eq!(lookup(DAFSA, b"zzzz"), None);
    }

    /// Hosts around every name of the list: the name, under one and two more labels, under a
    /// wildcard's and an exception's neighbours, and with its first label changed.
    fn probes() -> Vec<String> {
        let mut out = Vec::new();
        for name in node_values().keys() {
            out.push(name.clone());
            out.push(format!("a.{name}"));
            out.push(format!("b.a.{name}"));
            out.push(format!("www.{name}"));
            out.push(format!("x{name}"));
            if let Some((_, parent)) = name.split_once('.') {
                out.push(format!("zz.{parent}"));
                out.push(format!("q.zz.{parent}"));
            }
        }
        for extra in [
            "",
            "a",
            "localhost",
            "test",
            "a.b.c.d.e.f",
            "example.invalid",
            ".",
            "..",
            "com.",
            ".com",
            "a..co.uk",
            "ü.com",
            "www.ü.ck",
            "xn--.com",
            "COM",
        ] {
            out.push(extra.to_owned());
        }
        out
    }

    /// The crate this module replaced, over the same list (0.1.3): same answer everywhere.
    #[test]
    fn answers_as_the_public_suffix_crate() {
        for host in probes() {
            assert_eq!(
                public_suffix(&host),
                DEFAULT_PROVIDER.public_suffix(&host),
                "{host}"
            );
            assert_eq!(
                is_public_suffix(&host),
                DEFAULT_PROVIDER.is_effective_tld(&host),
                "{host}"
            );
        }
        for host in [".com", "com.", "a..com", "example.com."] {
            assert!(!is_public_suffix(host));
            assert_eq!(
                is_public_suffix(host),
                DEFAULT_PROVIDER.is_effective_tld(host)
            );
        }
    }

    #[test]
    fn known_suffixes() {
        for (host, suffix) in [
            ("www.example.com", "com"),
            ("www.example.co.uk", "co.uk"),
            ("foo.github.io", "github.io"),
            ("a.b.test", "test"),
            // *.ck with !www.ck
            ("a.b.ck", "b.ck"),
            ("www.ck", "ck"),
            ("a.www.ck", "ck"),
            // *.kawasaki.jp with !city.kawasaki.jp
            ("x.y.kawasaki.jp", "y.kawasaki.jp"),
            ("city.kawasaki.jp", "kawasaki.jp"),
            ("localhost", "localhost"),
        ] {
            assert_eq!(public_suffix(host), suffix, "{host}");
        }
        assert!(is_public_suffix("com"));
        assert!(is_public_suffix("co.uk"));
        assert!(is_public_suffix("github.io"));
        assert!(!is_public_suffix("example.com"));
        assert!(!is_public_suffix("www.ck"));
        assert!(is_public_suffix("b.ck"));
    }
}
