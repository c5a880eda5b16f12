//! Pagination shared by every list: `?limit=N&cursor=C` in, `{"items": [...], "next_cursor":
//! C | null}` out. A cursor is opaque to clients (base64url of the position after the last
//! item returned); lists are ordered by a unique integer key so that pages never overlap or
//! skip rows that existed when the first page was read.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

use super::ApiError;

/// Items per page when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most items a page holds; larger limits are reduced to this.
pub const MAX_LIMIT: u32 = 500;

/// `?limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page: 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "bounded::<_, 1, 500>")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page; absent for the first page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page size to use (the query refused one out of range already).
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }

    /// The position to continue after, decoded; 400 for a cursor this API did not make.
    pub fn after(&self) -> Result<Option<i64>, ApiError> {
        self.cursor.as_deref().map(decode).transpose()
    }
}

/// Reads an optional whole number in `MIN..=MAX` (a query's `limit`): a value out of range
/// is refused (a 400 naming the range) rather than quietly changed, so that the bounds the
/// document gives are the bounds the API keeps.
pub fn bounded<'de, D, const MIN: u32, const MAX: u32>(
    deserializer: D,
) -> Result<Option<u32>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Option::<u32>::deserialize(deserializer)?;
    match value {
        Some(n) if !(MIN..=MAX).contains(&n) => Err(serde::de::Error::custom(format!(
            "{n} is out of range: between {MIN} and {MAX}"
        ))),
        other => Ok(other),
    }
}

/// A cursor for a list read in either direction: after `key` (oldest first) or before it
/// (newest first).
pub fn encode_directed(after: bool, key: i64) -> String {
    B64.encode(format!("v1:{}{key}", if after { 'a' } else { 'b' }))
}

/// The direction (`true`: after) and position a directed cursor stands for.
pub fn decode_directed(cursor: &str) -> Result<(bool, i64), ApiError> {
    B64.decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let rest = text.strip_prefix("v1:")?;
            let after = match rest.chars().next()? {
                'a' => true,
                'b' => false,
                _ => return None,
            };
            Some((after, rest[1..].parse().ok()?))
        })
        .ok_or_else(|| {
            ApiError::bad_request(
                "The cursor is not one this API returned; start from the first page.",
            )
        })
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Makes a page from up to `limit + 1` rows (fetch one more than the limit: if it
    /// exists, there is a next page). `key` gives the position of an item.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> i64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode(key(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

/// The cursor for "after position `key`".
pub fn encode(key: i64) -> String {
    B64.encode(format!("v1:{key}"))
}

/// The position a cursor stands for.
pub fn decode(cursor: &str) -> Result<i64, ApiError> {
    B64.decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("v1:")?.parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "The cursor is not one this API returned; start from the first page.",
            )
        })
}
