//! A small client of the OCI distribution API: manifests by tag or digest,
//! blobs by digest, anonymous or with an anonymous bearer token.

use super::auth::parse_challenge;
use super::reference::PullReference;
use scpool_image::manifest::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use scpool_image::Digest;
use std::cell::RefCell;
use std::io::Read;
use std::time::Duration;

/// Manifests (and indexes) are small; anything bigger is not one.
const MANIFEST_LIMIT: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("cannot reach the registry {host}: {why}")]
    Unreachable { host: String, why: String },
    #[error("{url}: the registry answered {status}{}", if .body.is_empty() { String::new() } else { format!(": {}", .body) })]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url}: the registry answered garbage: {why}")]
    Garbage { url: String, why: String },
    #[error("{url}: the registry asks for credentials ({challenge}); only anonymous pulls are supported")]
    Unauthorized { url: String, challenge: String },
    #[error("{url}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error(transparent)]
    Store(scpool_image::Error),
}

/// A manifest or index as fetched: its bytes, digest and media type.
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    pub media_type: String,
}

pub struct Registry {
    agent: ureq::Agent,
    base: String,
    host: String,
    repository: String,
    token: RefCell<Option<String>>,
}

impl Registry {
    /// Plain HTTP for `insecure` or a loopback host, HTTPS otherwise.
    pub fn new(reference: &PullReference, insecure: bool) -> Result<Self, PullError> {
        let scheme = if insecure || reference.is_loopback() {
            "http"
        } else {
            "https"
        };
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(15))
            .timeout_read(Duration::from_secs(120))
            .redirects(5)
            .user_agent(concat!("scpool/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            agent,
            base: format!("{scheme}://{}", reference.host),
            host: reference.host.clone(),
            repository: reference.repository.clone(),
            token: RefCell::new(None),
        })
    }

    /// GET `/v2/REPOSITORY/{path}`, fetching a token once if the registry asks.
    fn get(&self, path: &str, accept: Option<&str>) -> Result<ureq::Response, PullError> {
        let url = format!("{}/v2/{}/{path}", self.base, self.repository);
        let mut retried = false;
        loop {
            let mut request = self.agent.get(&url);
            if let Some(accept) = accept {
                request = request.set("Accept", accept);
            }
            if let Some(token) = self.token.borrow().as_ref() {
                request = request.set("Authorization", &format!("Bearer {token}"));
            }
            match request.call() {
                Ok(response) => return Ok(response),
                Err(ureq::Error::Status(401, response)) if !retried => {
                    let challenge = response.header("WWW-Authenticate").unwrap_or("").to_owned();
                    let Some(bearer) = parse_challenge(&challenge) else {
                        return Err(PullError::Unauthorized { url, challenge });
                    };
                    let scope = bearer
                        .scope
                        .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
                    *self.token.borrow_mut() =
                        Some(self.token(&bearer.realm, bearer.service.as_deref(), &scope)?);
                    retried = true;
                }
                Err(error) => return Err(self.failure(&url, error)),
            }
        }
    }

    /// Asks the realm for an anonymous token.
    fn token(&self, realm: &str, service: Option<&str>, scope: &str) -> Result<String, PullError> {
        let mut request = self.agent.get(realm).query("scope", scope);
        if let Some(service) = service {
            request = request.query("service", service);
        }
        let response = request.call().map_err(|e| self.failure(realm, e))?;
        let bytes = read_limited(response, realm)?;
        let answer: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| PullError::Garbage {
                url: realm.to_owned(),
                why: format!("not a token: {e}"),
            })?;
        answer
            .get("token")
            .or_else(|| answer.get("access_token"))
            .and_then(|t| t.as_str())
            .map(ToOwned::to_owned)
            .ok_or_else(|| PullError::Garbage {
                url: realm.to_owned(),
                why: "no token in the answer".into(),
            })
    }

    fn failure(&self, url: &str, error: ureq::Error) -> PullError {
        match error {
            ureq::Error::Status(status, response) => {
                let mut body = response.into_string().unwrap_or_default();
                body.truncate(200);
                PullError::Status {
                    url: url.to_owned(),
                    status,
                    body: body.trim().to_owned(),
                }
            }
            ureq::Error::Transport(transport) => PullError::Unreachable {
                host: self.host.clone(),
                why: transport.to_string(),
            },
        }
    }

    /// The manifest (or index) tagged `tag`; its digest is checked against the
    /// registry's `Docker-Content-Digest` when it sends one.
    pub fn top_manifest(&self, tag: &str) -> Result<Fetched, PullError> {
        self.manifest(tag, None)
    }

    /// The manifest (or index) with digest `digest`, checked.
    pub fn manifest_by_digest(&self, digest: &Digest) -> Result<Fetched, PullError> {
        self.manifest(digest.as_str(), Some(digest))
    }

    fn manifest(&self, reference: &str, expected: Option<&Digest>) -> Result<Fetched, PullError> {
        let accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(", ");
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        let response = self.get(&format!("manifests/{reference}"), Some(&accept))?;
        let announced = response
            .header("Docker-Content-Digest")
            .map(ToOwned::to_owned);
        let content_type = response.content_type().to_owned();
        let bytes = read_limited(response, &url)?;
        let digest = Digest::of(&bytes);
        let expected = match (expected, announced) {
            (Some(expected), _) => Some(expected.clone()),
            (None, Some(text)) => Some(Digest::parse(&text).map_err(|e| PullError::Garbage {
                url: url.clone(),
                why: e.to_string(),
            })?),
            (None, None) => None,
        };
        if let Some(expected) = expected.filter(|e| *e != digest) {
            return Err(PullError::DigestMismatch {
                url,
                expected: expected.to_string(),
                actual: digest.to_string(),
            });
        }
        let document: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| PullError::Garbage {
                url: url.clone(),
                why: format!("not a JSON manifest: {e}"),
            })?;
        let media_type = document
            .get("mediaType")
            .and_then(|m| m.as_str())
            .map(ToOwned::to_owned)
            .or_else(|| {
                [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST]
                    .contains(&content_type.as_str())
                    .then_some(content_type)
            })
            .ok_or_else(|| PullError::Garbage {
                url: url.clone(),
                why: "a manifest without a media type".into(),
            })?;
        if ![OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].contains(&media_type.as_str()) {
            return Err(PullError::Garbage {
                url,
                why: format!("unsupported manifest media type {media_type}"),
            });
        }
        Ok(Fetched {
            bytes,
            digest,
            media_type,
        })
    }

    /// The blob `digest`, streamed (the store checks its digest as it reads).
    pub fn blob(&self, digest: &Digest) -> Result<Box<dyn Read + Send + Sync>, PullError> {
        Ok(self.get(&format!("blobs/{digest}"), None)?.into_reader())
    }
}

fn read_limited(response: ureq::Response, url: &str) -> Result<Vec<u8>, PullError> {
    let mut bytes = Vec::new();
    response
        .into_reader()
        .take(MANIFEST_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| PullError::Garbage {
            url: url.to_owned(),
            why: format!("reading the answer: {e}"),
        })?;
    if bytes.len() as u64 > MANIFEST_LIMIT {
        return Err(PullError::Garbage {
            url: url.to_owned(),
            why: "the answer is over 16 MiB".into(),
        });
    }
    Ok(bytes)
}
