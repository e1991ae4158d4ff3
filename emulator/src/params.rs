//! Method parameters, read the way Telegram reads them: from the query string and from a JSON,
//! urlencoded or multipart body alike. Form transports carry every value as a string, so typed
//! accessors accept both the JSON type and its string spelling (e.g. `prices` as a JSON string).

use std::collections::HashMap;

use axum::{
    body::{to_bytes, Body},
    extract::{FromRequest, Multipart, Request},
    http::header::CONTENT_TYPE,
};
use serde_json::{Map, Value};

use super::error::ApiError;

/// Bots may upload documents up to 50 MB.
pub const MAX_BODY_BYTES: usize = 50 * 1024 * 1024;

/// A file part of a multipart request.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Default, Clone)]
pub struct Params {
    fields: Map<String, Value>,
    files: HashMap<String, Upload>,
}

impl Params {
    pub async fn from_request(request: Request<Body>) -> Result<Self, ApiError> {
        let mut params = Params::default();
        if let Some(query) = request.uri().query() {
            params.merge_urlencoded(query.as_bytes());
        }
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(request, &())
                .await
                .map_err(|_| ApiError::bad_request("can't parse multipart/form-data request"))?;
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|_| ApiError::bad_request("can't parse multipart/form-data request"))?
            {
                let Some(name) = field.name().map(str::to_owned) else {
                    continue;
                };
                let file_name = field.file_name().map(str::to_owned);
                let part_type = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|_| {
                    ApiError::bad_request("can't parse multipart/form-data request")
                })?;
                if file_name.is_some() {
                    params.files.insert(
                        name,
                        Upload {
                            file_name,
                            content_type: part_type,
                            bytes: bytes.to_vec(),
                        },
                    );
                } else {
                    // Plain parts stay available as files too: `attach://` may point at them.
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    params.files.insert(
                        name.clone(),
                        Upload {
                            file_name: None,
                            content_type: part_type,
                            bytes: bytes.to_vec(),
                        },
                    );
                    params.fields.insert(name, Value::String(text));
                }
            }
            return Ok(params);
        }
        let body = to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::bad_request("request body is too big"))?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(params);
        }
        if content_type.starts_with("application/json") {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(map)) => params.fields.extend(map),
                _ => return Err(ApiError::bad_request("can't parse JSON request body")),
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            params.merge_urlencoded(&body);
        }
        Ok(params)
    }

    /// The fields of a JSON object (a method call a webhook answered with, or a test's).
    pub fn from_json(value: Value) -> Self {
        match value {
            Value::Object(fields) => Params {
                fields,
                files: HashMap::new(),
            },
            _ => Params::default(),
        }
    }

    fn merge_urlencoded(&mut self, raw: &[u8]) {
        for (key, value) in url::form_urlencoded::parse(raw) {
            self.fields
                .insert(key.into_owned(), Value::String(value.into_owned()));
        }
    }

    pub fn str(&self, key: &str) -> Option<String> {
        match self.fields.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    pub fn i64(&self, key: &str) -> Result<Option<i64>, ApiError> {
        let invalid = || ApiError::bad_request(format!("invalid {key} specified"));
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(invalid),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid()),
            Some(_) => Err(invalid()),
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => Ok(Some(n.as_i64() != Some(0))),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" | "" => Ok(Some(false)),
                _ => Err(ApiError::bad_request(format!("invalid {key} specified"))),
            },
            Some(_) => Err(ApiError::bad_request(format!("invalid {key} specified"))),
        }
    }

    /// A structured parameter; form transports send it as a JSON string.
    pub fn json(&self, key: &str) -> Result<Option<Value>, ApiError> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("can't parse {key} JSON object"))),
            Some(other) => Ok(Some(other.clone())),
        }
    }

    pub fn file(&self, name: &str) -> Option<&Upload> {
        self.files.get(name)
    }

    /// A parameter sent as an uploaded file part (not a string field).
    pub fn uploaded_file(&self, name: &str) -> Option<&Upload> {
        self.files.get(name).filter(|f| f.file_name.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_accessors_accept_string_spellings() {
        let params = Params::from_json(json!({
            "chat_id": "42",
            "ok": "true",
            "prices": "[{\"label\":\"x\",\"amount\":5}]",
            "limit": 7,
        }));
        assert_eq!(params.i64("chat_id").unwrap(), Some(42));
        assert_eq!(params.i64("limit").unwrap(), Some(7));
        assert_eq!(params.bool("ok").unwrap(), Some(true));
        assert_eq!(
            params.json("prices").unwrap(),
            Some(json!([{"label": "x", "amount": 5}]))
        );
        assert_eq!(params.i64("missing").unwrap(), None);
        assert!(Params::from_json(json!({"chat_id": "abc"}))
            .i64("chat_id")
            .is_err());
    }

    fn request(content_type: &str, uri: &str, body: &'static [u8]) -> Request<Body> {
        Request::builder()
            .method("POST")
            .uri(uri)
            .header(CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn multipart_fields_and_files_are_read() {
        let body: &'static [u8] = b"--XyZ\r\n\
Content-Disposition: form-data; name=\"chat_id\"\r\n\r\n\
42\r\n\
--XyZ\r\n\
Content-Disposition: form-data; name=\"document\"; filename=\"a.txt\"\r\n\
Content-Type: text/plain\r\n\r\n\
hello\r\n\
--XyZ--\r\n";
        let params = Params::from_request(request("multipart/form-data; boundary=XyZ", "/", body))
            .await
            .unwrap();
        assert_eq!(params.i64("chat_id").unwrap(), Some(42));
        let file = params.uploaded_file("document").unwrap();
        assert_eq!(file.file_name.as_deref(), Some("a.txt"));
        assert_eq!(file.content_type.as_deref(), Some("text/plain"));
        assert_eq!(file.bytes, b"hello");
        assert!(params.uploaded_file("chat_id").is_none());
    }

    #[tokio::test]
    async fn query_and_urlencoded_body_merge_with_body_winning() {
        let params = Params::from_request(request(
            "application/x-www-form-urlencoded",
            "/?chat_id=1&text=from%20query",
            b"text=from+body",
        ))
        .await
        .unwrap();
        assert_eq!(params.i64("chat_id").unwrap(), Some(1));
        assert_eq!(params.str("text").as_deref(), Some("from body"));
        let broken = Params::from_request(request("application/json", "/", b"[1,2]")).await;
        assert_eq!(
            broken.unwrap_err().to_string(),
            "Bad Request: can't parse JSON request body"
        );
    }
}
