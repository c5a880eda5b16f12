//! `/jobs`: the job queue as users see it — listing, one job, cancelling, and a job's output
//! (a JSON page, or a live server-sent event stream; see [`super::stream`]).
//!
//! A job is visible with its server: administrators see every job; anyone else sees jobs on
//! servers they may see, and never jobs on game runtimes (those are administrators' work).
//! Cancelling needs manage access to the job's server.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::{Json, Path, Query};
use super::page::{Page, PageQuery};
use super::{ApiError, AppState, stream};
use crate::auth::{Access, Caller, history_access, server_access, visible_servers};
use crate::store::CancelOutcome;
use crate::store::jobs::{self, Job, JobFilter, JobLogLine, JobState};

/// Filters of `GET /jobs`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs on this server.
    pub server_id: Option<i64>,
    /// Items per page: 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "super::page::bounded::<_, 1, 500>")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `?after=&limit=` of `GET /jobs/{id}/logs` as JSON.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinesQuery {
    /// Only lines with a seq above this (default 0: from the first line).
    pub after: Option<i64>,
    /// Lines per page: 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "super::page::bounded::<_, 1, 500>")]
    pub limit: Option<u32>,
}

/// A page of job output lines.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct JobLines {
    /// The lines, in seq order.
    pub items: Vec<JobLogLine>,
    /// Pass as `after` for the next page (the last seq returned, or `after` if none).
    pub next_after: i64,
}

/// What `caller` may do with `job`; 404 when they may not see it.
async fn job_access(state: &AppState, caller: &Caller, job: &Job) -> Result<Access, ApiError> {
    match job.server_id {
        Some(server_id) => Ok(history_access(&state.store, caller, server_id)
            .await
            .map_err(|_| ApiError::not_found(format!("No job {}.", job.id)))?),
        None if caller.is_admin() => Ok(Access::Manage),
        None => Err(ApiError::not_found(format!("No job {}.", job.id))),
    }
}

/// A job the caller may see.
async fn visible_job(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(Job, Access), ApiError> {
    let job = state.store.call(move |conn| jobs::get(conn, id)).await?;
    let access = job_access(state, caller, &job).await?;
    Ok((job, access))
}

/// `GET /api/v1/jobs`: jobs, newest first, filtered by state and server.
#[utoipa::path(
    get,
    path = "/jobs",
    tag = "jobs",
    params(JobsQuery),
    responses(
        (status = 200, description = "A page of jobs, newest first", body = Page<Job>),
        (status = 400, description = "Bad cursor or parameters"),
        (status = 404, description = "The server filtered on is not the caller's to see"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<JobsQuery>,
) -> Result<Json<Page<Job>>, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let (before_id, limit) = (page.after()?, page.limit());
    if let Some(server_id) = query.server_id {
        server_access(&state.store, &caller, server_id).await?;
    }
    let who = caller.clone();
    let rows = state
        .store
        .call(move |conn| {
            let server_ids = visible_servers(conn, &who)?.map(|ids| ids.into_iter().collect());
            jobs::list(
                conn,
                &JobFilter {
                    state: query.state,
                    server_id: query.server_id,
                    server_ids,
                    before_id,
                    limit: limit + 1,
                },
            )
        })
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |job| job.id)))
}

/// `GET /api/v1/jobs/{id}`: one job.
#[utoipa::path(
    get,
    path = "/jobs/{id}",
    tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 404, description = "No such job, or not the caller's to see"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(visible_job(&state, &caller, id).await?.0))
}

/// `POST /api/v1/jobs/{id}/cancel`: cancels a queued job at once, or asks a running one to
/// stop (its step is terminated; the job ends `cancelled`). Needs manage access.
#[utoipa::path(
    post,
    path = "/jobs/{id}/cancel",
    tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, description = "Cancelled (state `cancelled`), or requested (still `running`, `cancel_requested` set)", body = Job),
        (status = 403, description = "The caller may only view the job's server"),
        (status = 404, description = "No such job, or not the caller's to see"),
        (status = 409, description = "The job is already finished"),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    audit: super::audit::AuditSlot,
    Path(id): Path<i64>,
) -> Result<Json<Job>, ApiError> {
    let (_, access) = visible_job(&state, &caller, id).await?;
    access.require_manage()?;
    audit.set_target(format!("job {id}"));
    let job = match state.jobs.cancel(id).await? {
        CancelOutcome::Cancelled(job) | CancelOutcome::Requested(job) => job,
    };
    Ok(Json(job))
}

/// `GET /api/v1/jobs/{id}/logs`: the job's output. As JSON, a page of lines after `after`;
/// with `Accept: text/event-stream`, a stream that replays from `Last-Event-ID` (or the
/// start), follows while the job runs and ends with `event: end` once it is finished (see
/// [`stream`]).
#[utoipa::path(
    get,
    path = "/jobs/{id}/logs",
    tag = "jobs",
    params(("id" = i64, Path, description = "Job id"), LinesQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "SSE: resume after this line (the `id` of the last event received)")),
    responses(
        (status = 200, description = "A page of lines as JSON; with `Accept: text/event-stream`, server-sent events instead: `event: line` with `id: <seq>` and `data:` the line as JSON (a `JobLogLine`), then one `event: end` with `data:` the finished job as JSON (a `Job`) when the job is over. Reconnecting with `Last-Event-ID` goes on after that line.", content(
            (JobLines = "application/json"),
            (JobLogLine = "text/event-stream"),
        )),
        (status = 404, description = "No such job, or not the caller's to see"),
    )
)]
pub async fn logs(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<LinesQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    visible_job(&state, &caller, id).await?;
    if stream::wants_event_stream(&headers) {
        let after = stream::last_event_id(&headers).max(query.after.unwrap_or(0));
        return Ok(stream::job_logs(state, id, after).into_response());
    }
    let after = query.after.unwrap_or(0).max(0);
    let limit = query
        .limit
        .unwrap_or(super::page::DEFAULT_LIMIT)
        .clamp(1, super::page::MAX_LIMIT);
    let items = state
        .store
        .call(move |conn| jobs::logs(conn, id, after, limit))
        .await?;
    let next_after = items.last().map_or(after, |line| line.seq);
    Ok(Json(JobLines { items, next_after }).into_response())
}
