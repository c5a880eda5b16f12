//! The promise the API makes, checked from the outside: every answer a test receives is held
//! against the OpenAPI document the host publishes (status declared, content type declared,
//! body valid against the declared schema, JSON Schema 2020-12 with formats asserted), and
//! every WebSocket message against the published WebSocket schema.
//!
//! A mismatch fails the test that met it. For counting mismatches across a whole suite
//! instead, set `GARRISON_CONTRACT=report`: each mismatch is then appended as one line to
//! the file named by `GARRISON_CONTRACT_LOG` (default `contract-mismatches.log` in the
//! working directory) and the test goes on.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

/// A published document and the validators made from it so far.
pub struct Contract {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// One way an answer differs from the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// `METHOD /path (status)` or the schema checked against.
    pub subject: String,
    /// What differs.
    pub detail: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.subject, self.detail)
    }
}

impl Contract {
    /// Checks against `doc`: an OpenAPI 3.1 document, or a JSON Schema document whose
    /// definitions live under `$defs`.
    pub fn new(doc: Value) -> Self {
        Contract {
            doc,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The document.
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// Checks an answer to `method target` (`target` may carry a query). Paths outside
    /// `/api/` are the dashboard's and not the document's; they always pass.
    pub fn check_response(
        &self,
        method: &str,
        target: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), Mismatch> {
        let path = target.split(['?', '#']).next().unwrap_or(target);
        let subject = format!("{} {path} ({status})", method.to_ascii_uppercase());
        let fail = |detail: String| {
            Err(Mismatch {
                subject: subject.clone(),
                detail,
            })
        };
        if !path.starts_with("/api/") {
            return Ok(());
        }
        let Some((template, item)) = self.path_item(path) else {
            // A path the document does not have may only be not found.
            if status == 404 {
                return Ok(());
            }
            return fail("the path is not in the document".into());
        };
        let method_key = method.to_ascii_lowercase();
        let Some(operation) = item.get(&method_key) else {
            // Axum answers 405 for a method the route lacks; the document need not list it.
            if status == 405 {
                return Ok(());
            }
            return fail(format!("{template} has no {method_key} operation"));
        };
        let responses = operation.get("responses").and_then(Value::as_object);
        let status_text = status.to_string();
        let range = format!("{}XX", status / 100);
        let Some(response) = responses.and_then(|r| {
            r.get(&status_text)
                .or_else(|| r.get(&range))
                .or_else(|| r.get("default"))
        }) else {
            return fail(format!("status {status} is not declared for {template}"));
        };
        let response = self.resolve(response);
        let content = response.get("content").and_then(Value::as_object);
        let media = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        match (content.filter(|c| !c.is_empty()), media) {
            (None, _) if body.is_empty() => Ok(()),
            (None, media) => fail(format!(
                "a {} body of {} bytes where the document declares none",
                media.as_deref().unwrap_or("typeless"),
                body.len()
            )),
            (Some(_), _) if body.is_empty() && status == 204 => Ok(()),
            (Some(declared), None) => fail(format!(
                "no content type where the document declares {:?}",
                declared.keys().collect::<Vec<_>>()
            )),
            (Some(declared), Some(media)) => {
                let Some(entry) = declared.get(&media).or_else(|| wildcard(declared, &media))
                else {
                    return fail(format!(
                        "content type {media} where the document declares {:?}",
                        declared.keys().collect::<Vec<_>>()
                    ));
                };
                if !is_json(&media) {
                    return Ok(());
                }
                let Some(schema) = entry.get("schema") else {
                    return Ok(());
                };
                let instance: Value = match serde_json::from_slice(body) {
                    Ok(value) => value,
                    Err(e) => return fail(format!("the {media} body is not JSON: {e}")),
                };
                let pointer = format!(
                    "/paths/{}/{method_key}/responses/{status_text}/content/{}/schema",
                    escape(template),
                    escape(&media)
                );
                self.validate_schema(&pointer, schema, &instance)
                    .map_err(|detail| Mismatch { subject, detail })
            }
        }
    }

    /// Checks `instance` against the definition `name` (under `components/schemas` of an
    /// OpenAPI document, or `$defs` of a JSON Schema document).
    pub fn check_schema(&self, name: &str, instance: &Value) -> Result<(), Mismatch> {
        let reference = if self.doc.get("openapi").is_some() {
            format!("#/components/schemas/{name}")
        } else {
            format!("#/$defs/{name}")
        };
        let schema = serde_json::json!({ "$ref": reference });
        self.validate_schema(&reference, &schema, instance)
            .map_err(|detail| Mismatch {
                subject: name.to_string(),
                detail,
            })
    }

    /// The documented path `path` falls under: the template with the most literal segments
    /// among those that match.
    fn path_item(&self, path: &str) -> Option<(&str, &Value)> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let paths = self.doc.get("paths")?.as_object()?;
        paths
            .iter()
            .filter_map(|(template, item)| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') && part.ends_with('}') {
                        if segment.is_empty() {
                            return None;
                        }
                    } else if part == segment {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, template.as_str(), item))
            })
            .max_by_key(|(literal, _, _)| *literal)
            .map(|(_, template, item)| (template, item))
    }

    /// A `$ref` to a component response, followed.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference
                .strip_prefix('#')
                .and_then(|p| self.doc.pointer(p))
                .unwrap_or(value),
            None => value,
        }
    }

    fn validate_schema(&self, key: &str, schema: &Value, instance: &Value) -> Result<(), String> {
        let validator = self.validator(key, schema)?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .take(5)
            .map(|e| format!("at {:?}: {e}", e.instance_path().as_str()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    fn validator(&self, key: &str, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
        let mut cache = self
            .validators
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(validator) = cache.get(key) {
            return Ok(validator.clone());
        }
        // The schema with the document's definitions beside it, so that its local `$ref`s
        // resolve.
        let mut root = match schema {
            Value::Object(map) => map.clone(),
            other => {
                let mut map = Map::new();
                map.insert("allOf".into(), Value::Array(vec![other.clone()]));
                map
            }
        };
        for key in ["components", "$defs"] {
            if let Some(definitions) = self.doc.get(key) {
                root.insert(key.into(), definitions.clone());
            }
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&Value::Object(root))
            .map_err(|e| format!("the document's schema does not compile: {e}"))?;
        let validator = Arc::new(validator);
        cache.insert(key.to_string(), validator.clone());
        Ok(validator)
    }
}

fn wildcard<'a>(declared: &'a Map<String, Value>, media: &str) -> Option<&'a Value> {
    let kind = media.split('/').next().unwrap_or_default();
    declared
        .get(&format!("{kind}/*"))
        .or_else(|| declared.get("*/*"))
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

/// A JSON pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Fails the calling test on a mismatch, or records it when `GARRISON_CONTRACT=report`.
#[track_caller]
pub fn enforce(result: Result<(), Mismatch>) {
    let Err(mismatch) = result else {
        return;
    };
    if std::env::var("GARRISON_CONTRACT").as_deref() == Ok("report") {
        let path = std::env::var("GARRISON_CONTRACT_LOG")
            .unwrap_or_else(|_| "contract-mismatches.log".into());
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            let _ = writeln!(file, "{mismatch}");
        }
        return;
    }
    panic!("the answer breaks the published contract: {mismatch}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract() -> Contract {
        Contract::new(json!({
            "openapi": "3.1.0",
            "paths": {
                "/api/v1/things/{id}": {
                    "get": { "responses": {
                        "200": { "description": "a thing", "content": { "application/json": {
                            "schema": { "$ref": "#/components/schemas/Thing" } } } },
                        "204": { "description": "nothing" },
                        "404": { "description": "no", "content": { "application/problem+json": {
                            "schema": { "type": "object", "required": ["status"] } } } }
                    } }
                },
                "/api/v1/things/special": {
                    "get": { "responses": { "200": { "description": "special" } } }
                }
            },
            "components": { "schemas": { "Thing": {
                "type": "object",
                "required": ["kind", "at"],
                "properties": {
                    "kind": { "type": "string", "enum": ["small", "large"] },
                    "at": { "type": "string", "format": "date-time" }
                }
            } } }
        }))
    }

    const JSON: Option<&str> = Some("application/json");

    #[test]
    fn a_body_matching_its_schema_passes() {
        let body = br#"{"kind":"small","at":"2026-12-05T20:00:00Z"}"#;
        assert_eq!(
            contract().check_response("GET", "/api/v1/things/3?x=1", 200, JSON, body),
            Ok(())
        );
    }

    #[test]
    fn wrong_enum_casing_and_dates_are_caught() {
        let c = contract();
        let body = br#"{"kind":"Small","at":"2026-12-05T20:00:00Z"}"#;
        assert!(
            c.check_response("GET", "/api/v1/things/3", 200, JSON, body)
                .is_err()
        );
        let body = br#"{"kind":"small","at":"yesterday"}"#;
        assert!(
            c.check_response("GET", "/api/v1/things/3", 200, JSON, body)
                .is_err()
        );
    }

    #[test]
    fn undeclared_statuses_types_and_paths_are_caught() {
        let c = contract();
        let problem = Some("application/problem+json");
        assert!(
            c.check_response("GET", "/api/v1/things/3", 403, problem, b"{}")
                .is_err()
        );
        assert!(
            c.check_response("GET", "/api/v1/things/3", 404, JSON, b"{}")
                .is_err()
        );
        assert!(
            c.check_response("GET", "/api/v1/things/3", 404, problem, b"{}")
                .is_err()
        );
        assert_eq!(
            c.check_response(
                "GET",
                "/api/v1/things/3",
                404,
                problem,
                br#"{"status":404}"#
            ),
            Ok(())
        );
        assert!(
            c.check_response("GET", "/api/v1/nothing", 200, JSON, b"{}")
                .is_err()
        );
        assert!(
            c.check_response("POST", "/api/v1/things/3", 200, JSON, b"{}")
                .is_err()
        );
        assert_eq!(
            c.check_response("GET", "/servers/3", 200, None, b"<html>"),
            Ok(())
        );
    }

    #[test]
    fn a_literal_segment_wins_over_a_template_and_bodies_must_be_declared() {
        let c = contract();
        assert_eq!(
            c.check_response("GET", "/api/v1/things/special", 200, None, b""),
            Ok(())
        );
        assert!(
            c.check_response("GET", "/api/v1/things/special", 200, JSON, b"{}")
                .is_err()
        );
        assert_eq!(
            c.check_response("GET", "/api/v1/things/3", 204, None, b""),
            Ok(())
        );
    }

    #[test]
    fn definitions_are_checked_by_name() {
        let c = contract();
        assert_eq!(
            c.check_schema(
                "Thing",
                &json!({"kind": "large", "at": "2026-01-01T00:00:00.123Z"})
            ),
            Ok(())
        );
        assert!(c.check_schema("Thing", &json!({"kind": "huge"})).is_err());
        let ws = Contract::new(json!({ "$defs": { "Ping": { "const": "ping" } } }));
        assert_eq!(ws.check_schema("Ping", &json!("ping")), Ok(()));
        assert!(ws.check_schema("Ping", &json!("pong")).is_err());
    }
}
