//! The OpenAPI 3.1 document, generated from the handlers (`#[utoipa::path]`) and the types
//! they take and return (`utoipa::ToSchema`), served at `GET /api/v1/openapi.json`.
//!
//! Conventions applied to every operation (so handlers only declare what is particular to
//! them):
//! - every operation needs the `bearer` scheme (a session token or an API key) unless it
//!   declares `security(())`;
//! - every operation declares the errors it can meet by rule, referring to one shared set of
//!   response components (`SHARED_ERRORS`): 500 always; 400 with parameters or a body;
//!   401 when secured, and 403 too when it changes something; 404 with a path parameter;
//!   413 and 415 with a body; 422 with a JSON body; 507 when it changes something. A
//!   handler declares a status itself to say something particular (and 403, 409, 429 and
//!   502 where they happen);
//! - every error response (4xx/5xx) declared with only a description gets the [`Problem`]
//!   body as `application/problem+json`;
//! - operation ids are `<tag>_<handler>` (e.g. `users_list`), so handlers in different
//!   modules may share a name; an explicit `operation_id` that already starts with its tag
//!   is kept.
//!
//! To document a new endpoint: annotate the handler with `#[utoipa::path(method, path =
//! "/relative/to/api/v1", tag = "...", responses(...))]`, derive `utoipa::ToSchema` on its
//! body types, and register it in `api::v1_routes` with `.routes(routes!(handler))`; the route
//! and the document then come from the same declaration.

use serde_json::{Map, Value, json};
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr};

/// The media type of every error answer.
const PROBLEM: &str = "application/problem+json";

use super::error::{FieldError, Problem};

/// A JSON document served as it is: the OpenAPI document, the WebSocket schema.
#[derive(utoipa::ToSchema)]
#[schema(value_type = Object)]
#[allow(dead_code)]
pub struct JsonDocument(serde_json::Value);

/// Name of the security scheme in the document.
pub const BEARER: &str = "bearer";

/// The document's fixed parts; paths are added by the router.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Garrison API",
        description = "Self-hosted host for dedicated game servers. Every endpoint except \
                       health, sign-in and this document needs `Authorization: Bearer <session \
                       token or API key>`. Errors are RFC 9457 problems \
                       (`application/problem+json`). Lists take `limit` and `cursor` and \
                       answer `{\"items\": [...], \"next_cursor\": ...}`."
    ),
    servers((url = "/", description = "This host (the document is served by the host it \
                                      describes)")),
    components(schemas(Problem, FieldError, super::servers::Action)),
    modifiers(&Conventions),
    tags(
        (name = "auth", description = "Signing in and out, the caller's own account"),
        (name = "users", description = "Accounts and per-server grants (administrators)"),
        (name = "api-keys", description = "Keys for automation"),
        (name = "audit", description = "The audit log (administrators)"),
        (name = "adapters", description = "Game adapters"),
        (name = "servers", description = "Game servers: settings, lifecycle, console, history"),
        (name = "players", description = "Players of a server: who is on, history, kick, ban"),
        (name = "bans", description = "A server's bans: the host's list merged with the game's"),
        (name = "content", description = "Missions and mods of a server"),
        (name = "system", description = "The host itself"),
    )
)]
pub struct ApiDoc;

/// Applies the conventions above to the finished document.
pub struct Conventions;

impl utoipa::Modify for Conventions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http({
                let mut http = Http::new(HttpAuthScheme::Bearer);
                http.description = Some(
                    "A session token from `POST /auth/login`, or an API key (`gar_…`).".into(),
                );
                http
            }),
        );
        doc.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    }
}

/// The error answers every operation shares, by status: (component name, description).
/// Operations refer to these; a handler declares a status itself only to say something
/// particular about it.
const SHARED_ERRORS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "The request is malformed: a body that is not JSON or has unknown fields, or a path \
         or query value of the wrong type or out of range",
    ),
    (
        "401",
        "Unauthorized",
        "Missing, invalid, expired or revoked token or API key",
    ),
    (
        "403",
        "Forbidden",
        "The caller's role or access does not allow this (or a cookie-session request did \
         not come from this host's own pages)",
    ),
    ("404", "NotFound", "No such resource the caller may see"),
    (
        "413",
        "PayloadTooLarge",
        "The body is larger than the limit",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body's content type is not the one this operation takes",
    ),
    (
        "422",
        "UnprocessableContent",
        "The body is well-formed but breaks a rule; `errors` names the fields",
    ),
    (
        "429",
        "TooManyRequests",
        "Too many attempts; wait the seconds given by `Retry-After`",
    ),
    (
        "500",
        "InternalError",
        "The host failed; the details are in its log",
    ),
    (
        "503",
        "ServiceUnavailable",
        "The host is out of a resource this request needs right now (every adapter instance \
         slot is in use); the detail names the limit and the option that raises it",
    ),
    (
        "507",
        "InsufficientStorage",
        "The host's disk refused the change; nothing was changed",
    ),
];

/// Applies the per-operation conventions; call on the document once every path is in it.
pub fn finish(doc: &mut Document) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (status, name, description) in SHARED_ERRORS {
        let mut response = ResponseBuilder::new().description(*description).content(
            PROBLEM,
            Content::new(Some(Ref::from_schema_name("Problem"))),
        );
        if *status == "401" {
            response = response.header(
                "WWW-Authenticate",
                Header::new(ObjectBuilder::new().schema_type(Type::String)),
            );
        }
        if *status == "429" {
            let mut header = Header::new(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            );
            header.description = Some("Seconds to wait before trying again".into());
            response = response.header("Retry-After", header);
        }
        components
            .responses
            .insert((*name).to_string(), RefOr::T(response.build()));
    }
    for item in doc.paths.paths.values_mut() {
        let path_params = item.parameters.clone().unwrap_or_default();
        for (safe, operation) in operations(item) {
            if let (Some(tag), Some(id)) = (
                operation.tags.as_ref().and_then(|t| t.first()),
                operation.operation_id.as_mut(),
            ) {
                let prefix = format!("{}_", tag.replace('-', "_"));
                if !id.starts_with(&prefix) {
                    *id = format!("{prefix}{id}");
                }
            }
            let params = operation
                .parameters
                .iter()
                .flatten()
                .chain(&path_params)
                .collect::<Vec<_>>();
            let in_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
            let body = operation.request_body.as_ref();
            let json_body = body.is_some_and(|b| b.content.contains_key("application/json"));
            let secured = operation.security.is_none();
            let mut shared = vec!["500", "503"];
            if !params.is_empty() || body.is_some() {
                shared.push("400");
            }
            if secured {
                shared.push("401");
                if !safe {
                    shared.push("403");
                }
            }
            if in_path {
                shared.push("404");
            }
            if body.is_some() {
                shared.extend(["413", "415"]);
            }
            if json_body {
                shared.push("422");
            }
            if !safe {
                shared.push("507");
            }
            let responses = &mut operation.responses.responses;
            for status in shared {
                if let Some((_, name, _)) = SHARED_ERRORS.iter().find(|(s, _, _)| *s == status) {
                    responses.entry(status.to_string()).or_insert_with(|| {
                        RefOr::Ref(Ref::new(format!("#/components/responses/{name}")))
                    });
                }
            }
            for (status, response) in responses.iter_mut() {
                let is_error = status.starts_with('4') || status.starts_with('5');
                if let RefOr::T(response) = response
                    && is_error
                    && response.content.is_empty()
                {
                    response.content.insert(
                        PROBLEM.into(),
                        Content::new(Some(Ref::from_schema_name("Problem"))),
                    );
                }
            }
        }
    }
}

/// The operations of a path, each with whether it only reads (`GET`, `HEAD`, `OPTIONS`).
fn operations(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    [
        (true, &mut item.get),
        (false, &mut item.put),
        (false, &mut item.post),
        (false, &mut item.delete),
        (true, &mut item.options),
        (true, &mut item.head),
        (false, &mut item.patch),
        (false, &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(safe, operation)| Some((safe, operation.as_mut()?)))
}

/// The finishing steps that are easier on the document's JSON than on its types; call once
/// on the whole document after [`finish`]:
/// - a union of objects told apart by a constant property (a serde-tagged enum, such as
///   `FieldKind` by `type`) gets each variant as its own named schema (`FieldKindText`, …),
///   with a `title`, and a `discriminator` mapping each tag to it, so client generators name
///   the variants instead of inventing `FieldKindType0`;
/// - a list page (`Page_User`, …) refers to its items' schema instead of holding a copy;
/// - public operations have `security: []`;
/// - tuples are bounded by length rather than by `items: false`.
pub fn finish_json(doc: &mut Value) {
    // An operation that needs no credential says so with an empty list (`[{}]`, "any one of
    // no requirements", makes some generators ask for a token anyway).
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
        {
            if operation.get("security") == Some(&json!([{}])) {
                operation["security"] = json!([]);
            }
        }
    }
    fixed_length_tuples(doc);
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let names: Vec<String> = schemas.keys().cloned().collect();
    let mut lifted = Map::new();
    for name in &names {
        let Some(schema) = schemas.get_mut(name) else {
            continue;
        };
        name_union_variants(name, schema, &mut lifted);
    }
    schemas.extend(lifted);
    let known: std::collections::BTreeSet<String> = schemas.keys().cloned().collect();
    for (name, schema) in schemas.iter_mut() {
        if let Some(item) = name.strip_prefix("Page_")
            && known.contains(item)
            && let Some(items) = schema.pointer_mut("/properties/items/items")
        {
            *items = json!({ "$ref": format!("#/components/schemas/{item}") });
        }
    }
}

/// A tuple (`prefixItems` with `items: false`) said with lengths instead: the same set of
/// values, and generators that read no boolean schemas can read it.
fn fixed_length_tuples(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let length = object
                .get("prefixItems")
                .and_then(Value::as_array)
                .map(Vec::len);
            if let Some(length) = length
                && object.get("items") == Some(&Value::Bool(false))
            {
                object.remove("items");
                object.insert("minItems".into(), json!(length));
                object.insert("maxItems".into(), json!(length));
            }
            object.values_mut().for_each(fixed_length_tuples);
        }
        Value::Array(items) => items.iter_mut().for_each(fixed_length_tuples),
        _ => {}
    }
}

/// Names the variants of `schema` (component `name`) when it is a tagged union; see
/// [`finish_json`].
fn name_union_variants(name: &str, schema: &mut Value, lifted: &mut Map<String, Value>) {
    let Some(variants) = schema.get("oneOf").and_then(Value::as_array) else {
        return;
    };
    let Some(tag) = union_tag(variants) else {
        return;
    };
    let mut mapping = Map::new();
    let mut refs = Vec::new();
    for variant in variants {
        let Some(value) = variant
            .pointer(&format!("/properties/{tag}/enum/0"))
            .and_then(Value::as_str)
        else {
            return;
        };
        let variant_name = format!("{name}{}", pascal(value));
        let mut variant = variant.clone();
        if let Some(object) = variant.as_object_mut() {
            object.insert("title".into(), Value::String(variant_name.clone()));
        }
        let reference = format!("#/components/schemas/{variant_name}");
        mapping.insert(value.to_string(), Value::String(reference.clone()));
        refs.push(json!({ "$ref": reference }));
        lifted.insert(variant_name, variant);
    }
    if let Some(object) = schema.as_object_mut() {
        object.insert("oneOf".into(), Value::Array(refs));
        object.insert(
            "discriminator".into(),
            json!({ "propertyName": tag, "mapping": mapping }),
        );
    }
}

/// The property every variant has as a one-value string enum, if there is one.
fn union_tag(variants: &[Value]) -> Option<String> {
    let first = variants.first()?.get("properties")?.as_object()?;
    first
        .iter()
        .filter(|(_, property)| {
            property.get("type") == Some(&json!("string"))
                && property
                    .get("enum")
                    .and_then(Value::as_array)
                    .is_some_and(|values| values.len() == 1)
        })
        .map(|(key, _)| key.clone())
        .find(|key| {
            variants.iter().all(|variant| {
                variant
                    .pointer(&format!("/properties/{key}/enum"))
                    .and_then(Value::as_array)
                    .is_some_and(|values| values.len() == 1)
                    && variant
                        .get("required")
                        .and_then(Value::as_array)
                        .is_some_and(|required| required.contains(&json!(key)))
            })
        })
}

/// `drop_in` → `DropIn`.
fn pascal(text: &str) -> String {
    text.split(['_', '-', ' '])
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}
