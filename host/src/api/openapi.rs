//! The OpenAPI 3.1 document, generated from the handlers (`#[utoipa::path]`) and the types
//! they take and return (`utoipa::ToSchema`), served at `GET /api/v1/openapi.json`.
//!
//! Conventions applied to every operation (so handlers only declare what is particular to
//! them):
//! - every operation needs the `bearer` scheme (a session token or an API key) unless it
//!   declares `security(())`, and such operations document a 401;
//! - every error response (4xx/5xx) declared with only a description gets the [`Problem`]
//!   body as `application/problem+json`;
//! - every operation with a request body documents 413 (the global body limit);
//! - operation ids are `<tag>_<handler>` (e.g. `users_list`), so handlers in different
//!   modules may share a name; an explicit `operation_id` that already starts with its tag
//!   is kept.
//!
//! To document a new endpoint: annotate the handler with `#[utoipa::path(method, path =
//! "/relative/to/api/v1", tag = "...", responses(...))]`, derive `utoipa::ToSchema` on its
//! body types, and register it in `api::v1_routes` with `.routes(routes!(handler))`; the route
//! and the document then come from the same declaration.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::Response;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr};

use super::error::{FieldError, Problem};

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
    components(schemas(Problem, FieldError)),
    modifiers(&Conventions),
    tags(
        (name = "auth", description = "Signing in and out, the caller's own account"),
        (name = "users", description = "Accounts and per-server grants (administrators)"),
        (name = "api-keys", description = "Keys for automation"),
        (name = "audit", description = "The audit log (administrators)"),
        (name = "adapters", description = "Game adapters"),
        (name = "servers", description = "Game servers: settings, lifecycle, console, history"),
        (name = "players", description = "Players and bans of a server"),
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

/// Applies the per-operation conventions; call on the document once every path is in it.
pub fn finish(doc: &mut Document) {
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            if let (Some(tag), Some(id)) = (
                operation.tags.as_ref().and_then(|t| t.first()),
                operation.operation_id.as_mut(),
            ) {
                let prefix = format!("{}_", tag.replace('-', "_"));
                if !id.starts_with(&prefix) {
                    *id = format!("{prefix}{id}");
                }
            }
            let secured = operation.security.is_none();
            let responses = &mut operation.responses.responses;
            if secured {
                responses.entry("401".into()).or_insert_with(|| {
                    RefOr::T(Response::new(
                        "Missing, invalid, expired or revoked token or API key",
                    ))
                });
            }
            if operation.request_body.is_some() {
                responses.entry("413".into()).or_insert_with(|| {
                    RefOr::T(Response::new("The body is larger than the limit"))
                });
            }
            for (status, response) in responses.iter_mut() {
                let is_error = status.starts_with('4') || status.starts_with('5');
                if let RefOr::T(response) = response
                    && is_error
                    && response.content.is_empty()
                {
                    response.content.insert(
                        "application/problem+json".into(),
                        Content::new(Some(Ref::from_schema_name("Problem"))),
                    );
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}
