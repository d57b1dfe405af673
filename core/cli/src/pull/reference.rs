//! `HOST[:PORT]/REPOSITORY[:TAG]`: a pull names its registry; there is no default.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullReference {
    pub host: String,
    pub repository: String,
    pub tag: String,
}

impl PullReference {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (host, rest) = text
            .split_once('/')
            .filter(|(host, _)| host.contains(['.', ':']) || *host == "localhost")
            .ok_or_else(|| format!("{text:?}: give the registry, as HOST[:PORT]/NAME[:TAG]"))?;
        // Checks the name's syntax (and adds the default tag) once, the store's way.
        let parsed = scpool_image::Reference::parse(text).map_err(|e| e.to_string())?;
        let repository = parsed.name()[host.len() + 1..].to_owned();
        if rest.is_empty() || repository.is_empty() {
            return Err(format!("{text:?}: no repository name after the host"));
        }
        Ok(Self {
            host: host.to_owned(),
            repository,
            tag: parsed.tag().to_owned(),
        })
    }

    /// Whether the host is this machine, where plain HTTP is allowed by default.
    pub fn is_loopback(&self) -> bool {
        let host = self
            .host
            .rsplit_once(':')
            .map_or(self.host.as_str(), |(h, _)| h);
        host == "localhost" || host == "127.0.0.1" || host == "[::1]"
    }
}

impl fmt::Display for PullReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.host, self.repository, self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_host_repository_and_tag() {
        let r = PullReference::parse("127.0.0.1:5000/tools/busybox:1").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repository.as_str(), r.tag.as_str()),
            ("127.0.0.1:5000", "tools/busybox", "1")
        );
        assert!(r.is_loopback());
        let r = PullReference::parse("registry.example:443/gcc").unwrap();
        assert_eq!(r.tag, "latest");
        assert!(!r.is_loopback());
    }

    #[test]
    fn a_reference_without_a_registry_is_refused() {
        assert!(PullReference::parse("busybox:1")
            .unwrap_err()
            .contains("HOST"));
        assert!(PullReference::parse("library/busybox").is_err());
        assert!(PullReference::parse("127.0.0.1:5000/").is_err());
        assert!(PullReference::parse("127.0.0.1:5000/Bad").is_err());
    }
}
