//! The OpenAPI document: served without auth, OpenAPI 3.1, complete enough to generate a
//! client (every operation has an id, a tag, its responses; errors are problems).

use axum::http::StatusCode;

use super::TestApp;

#[tokio::test]
async fn the_document_is_served_without_auth_and_describes_the_api() {
    let app = TestApp::new().await;
    let answer = app.get("/api/v1/openapi.json", None).await;
    answer.expect(StatusCode::OK);
    let doc = answer.json();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
    for path in [
        "/api/v1/system/health",
        "/api/v1/openapi.json",
        "/api/v1/adapters",
        "/api/v1/adapters/{id}",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/auth/password",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/users/{id}/password",
        "/api/v1/users/{id}/grants",
        "/api/v1/users/{id}/grants/{server_id}",
        "/api/v1/api-keys",
        "/api/v1/api-keys/{id}",
        "/api/v1/audit",
        "/api/v1/servers/{id}/missions",
        "/api/v1/servers/{id}/missions/files/{name}",
        "/api/v1/servers/{id}/missions/rotation",
        "/api/v1/servers/{id}/mods",
        "/api/v1/servers/{id}/mods/enabled",
        "/api/v1/servers/{id}/mods/{name}/enable",
        "/api/v1/servers/{id}/mods/{name}/disable",
        "/api/v1/servers/{id}/mods/workshop",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    // Mission uploads are raw bytes with their own size limit.
    let upload = &doc["paths"]["/api/v1/servers/{id}/missions/files/{name}"]["put"];
    assert!(
        upload["requestBody"]["content"]
            .get("application/octet-stream")
            .is_some()
    );
    assert!(upload["responses"].get("413").is_some());
    // Public operations say so; the rest need the bearer scheme and document 401.
    let login = &doc["paths"]["/api/v1/auth/login"]["post"];
    assert_eq!(login["security"], serde_json::json!([]));
    assert!(login["responses"].get("429").is_some());
    let users = &doc["paths"]["/api/v1/users"]["post"];
    assert!(
        users.get("security").is_none(),
        "inherits the global bearer"
    );
    assert_eq!(
        users["responses"]["401"]["$ref"],
        "#/components/responses/Unauthorized"
    );
    assert_eq!(
        doc["components"]["responses"]["Unauthorized"]["content"]["application/problem+json"]["schema"]
            ["$ref"],
        "#/components/schemas/Problem"
    );
    assert!(
        users["responses"].get("413").is_some(),
        "bodies have a limit"
    );
    assert_eq!(
        users["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewUserRequest"
    );

    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(
                operation_ids.insert(id.to_string()),
                "{method} {path}: id {id:?} twice"
            );
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path}"
            );
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let response = match response["$ref"].as_str() {
                    Some(reference) => doc
                        .pointer(reference.trim_start_matches('#'))
                        .expect("the response a $ref names"),
                    None => response,
                };
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]
                            .get("application/problem+json")
                            .is_some(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    // Every schema referenced is defined.
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for reference in text.split("#/components/schemas/").skip(1) {
        let name: String = reference.chars().take_while(|c| *c != '"').collect();
        assert!(
            schemas.contains_key(&name),
            "{name} is referenced but not defined"
        );
    }
    // No secret-bearing internals leak into the schemas.
    assert!(!text.contains("password_hash") && !text.contains("token_generation"));
}

#[tokio::test]
async fn a_server_says_when_its_game_started_and_how_its_restarts_stand() {
    let app = TestApp::new().await;
    let doc = app.get("/api/v1/openapi.json", None).await.json();
    let view = &doc["components"]["schemas"]["ServerView"];
    let started = &view["properties"]["started_at"];
    assert_eq!(started["format"], "date-time", "{started}");
    assert_eq!(
        started["type"],
        serde_json::json!(["string", "null"]),
        "{started}"
    );
    let restarts = &view["properties"]["restarts"];
    assert_eq!(
        restarts["$ref"], "#/components/schemas/RestartsView",
        "{restarts}"
    );
    let schema = &doc["components"]["schemas"]["RestartsView"];
    for field in ["count", "max", "restarting"] {
        assert!(
            schema["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|f| f == field)),
            "{field} is required: {schema}"
        );
    }
    assert_eq!(schema["properties"]["restarting"]["type"], "boolean");
}

/// The document says what the values are: every time is `format: date-time` (RFC 3339 text)
/// or an integer of ms, every schema is named, no operation answers a free-form body.
#[tokio::test]
async fn times_are_dated_and_bodies_are_named() {
    let app = TestApp::new().await;
    let doc = app.get("/api/v1/openapi.json", None).await.json();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mut times = 0;
    for (name, schema) in schemas {
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (key, property) in properties {
            let is_time =
                key.ends_with("_at") || key == "at" || key == "first_seen" || key == "last_seen";
            let text = property["type"] == "string"
                || property["type"]
                    .as_array()
                    .is_some_and(|types| types.contains(&serde_json::json!("string")));
            if is_time && text {
                times += 1;
                assert_eq!(property["format"], "date-time", "{name}.{key}");
            }
        }
    }
    assert!(times >= 20, "only {times} times found");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                for (media, content) in response["content"].as_object().into_iter().flatten() {
                    assert!(
                        content["schema"].get("$ref").is_some(),
                        "{method} {path} {status} {media}: an inline body"
                    );
                }
            }
        }
    }
}
