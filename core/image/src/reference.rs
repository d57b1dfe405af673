//! Image names: `NAME[:TAG]`, the tag `latest` when none is given.

use crate::error::{Error, Result};
use std::fmt;

/// A parsed `NAME:TAG`. NAME is lowercase path components (`library/gcc`), the
/// first of which may be a registry host with a port (`127.0.0.1:5000/busybox`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    name: String,
    tag: String,
}

impl Reference {
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |why: &str| Error::Invalid {
            what: "image name",
            text: text.to_owned(),
            why: why.to_owned(),
        };
        if text.contains('@') {
            return Err(invalid("digest references are not names; give NAME:TAG"));
        }
        // A ':' after the last '/' starts the tag; one before it is a host's port.
        let last_slash = text.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match text[last_slash..].rfind(':') {
            Some(i) => (&text[..last_slash + i], &text[last_slash + i + 1..]),
            None => (text, "latest"),
        };
        if name.is_empty() || name.len() > 255 {
            return Err(invalid("the name must have 1 to 255 characters"));
        }
        for (i, component) in name.split('/').enumerate() {
            let host = i == 0 && name.contains('/') && looks_like_host(component);
            if !(if host {
                valid_host(component)
            } else {
                valid_component(component)
            }) {
                return Err(invalid(
                    "name components are lowercase letters and digits, separated by '.', '_' or '-'",
                ));
            }
        }
        let tag_ok = !tag.is_empty()
            && tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !tag_ok {
            return Err(invalid(
                "a tag has 1 to 128 letters, digits, '_', '.' or '-', not first '.' or '-'",
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            tag: tag.to_owned(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.tag)
    }
}

/// As registries tell a host from a path: a '.' or ':' in it, or `localhost`.
fn looks_like_host(component: &str) -> bool {
    component.contains(['.', ':']) || component == "localhost"
}

fn valid_host(component: &str) -> bool {
    let (host, port) = match component.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (component, None),
    };
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes
            .iter()
            .all(|b| alnum(b) || matches!(b, b'.' | b'_' | b'-'))
        && !component.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_the_tag_latest_by_default_and_keep_a_hosts_port() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!((r.name(), r.tag()), ("busybox", "latest"));
        let r = Reference::parse("127.0.0.1:5000/tools/busybox:1.36").unwrap();
        assert_eq!(
            (r.name(), r.tag()),
            ("127.0.0.1:5000/tools/busybox", "1.36")
        );
        assert_eq!(r.to_string(), "127.0.0.1:5000/tools/busybox:1.36");
        let r = Reference::parse("localhost:5000/gcc").unwrap();
        assert_eq!((r.name(), r.tag()), ("localhost:5000/gcc", "latest"));
    }

    #[test]
    fn malformed_names_are_refused() {
        for text in [
            "",
            ":tag",
            "Busybox:1",
            "a//b",
            "a/../b",
            "x:",
            "x:-1",
            "x@sha256:00",
            "/abs",
            "a/",
        ] {
            assert!(
                matches!(Reference::parse(text), Err(Error::Invalid { .. })),
                "{text:?} parsed"
            );
        }
    }
}
