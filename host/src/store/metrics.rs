//! Metric samples: raw points (kept a day) and one-minute rollups (kept a month), and range
//! queries that downsample to the step a graph asks for.
//!
//! A series is (server, name); server 0 is the host. [`rollup`] folds complete minutes of
//! raw points into `metrics_1m`; [`range`] reads raw points while the range is within the
//! raw retention and rollups beyond it.

use rusqlite::{Connection, TransactionBehavior, params};
use serde::Serialize;

use super::StoreError;

/// The series id of the host itself.
pub const HOST: i64 = 0;

/// One measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// The server (0: the host).
    pub server_id: i64,
    /// Metric name, snake_case (`cpu_percent`, `memory_bytes`, `server_fps`, …).
    pub name: String,
    /// When, in ms since the Unix epoch.
    pub at: i64,
    /// The value.
    pub value: f64,
}

/// A downsampled series.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Series {
    /// Metric name.
    pub name: String,
    /// (bucket start in ms, average) pairs, oldest first.
    pub points: Vec<(i64, f64)>,
}

/// Stores samples (a repeated (series, time) keeps the last value).
pub fn insert(conn: &mut Connection, samples: &[Sample]) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO metrics (server_id, name, at, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (server_id, name, at) DO UPDATE SET value = excluded.value",
        )?;
        for s in samples {
            if s.value.is_finite() {
                insert.execute(params![s.server_id, s.name, s.at, s.value])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// Folds raw points in `[from, until)` (both minute-aligned) into one-minute rollups,
/// replacing rollups of those minutes. Returns how many rollup rows were written.
pub fn rollup(conn: &mut Connection, from: i64, until: i64) -> Result<usize, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let written = tx.execute(
        "INSERT INTO metrics_1m (server_id, name, at, avg, min, max, samples)
         SELECT server_id, name, (at / 60000) * 60000, AVG(value), MIN(value), MAX(value),
                COUNT(*)
         FROM metrics WHERE at >= ?1 AND at < ?2
         GROUP BY server_id, name, at / 60000
         ON CONFLICT (server_id, name, at) DO UPDATE SET
             avg = excluded.avg, min = excluded.min, max = excluded.max,
             samples = excluded.samples",
        params![from, until],
    )?;
    tx.commit()?;
    Ok(written)
}

/// The start of the newest rollup minute, if any.
pub fn last_rollup(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn.query_row("SELECT MAX(at) FROM metrics_1m", [], |row| row.get(0))?)
}

/// Every series of `server_id` in `[from, to)`, averaged into buckets of `step_ms` (at least
/// one second). Points come from the raw table when `from` is at or after `raw_since`
/// (the oldest time raw points are kept for), else from the minute rollups.
pub fn range(
    conn: &Connection,
    server_id: i64,
    from: i64,
    to: i64,
    step_ms: i64,
    raw_since: i64,
) -> Result<Vec<Series>, StoreError> {
    let step = step_ms.max(1000);
    let sql = if from >= raw_since {
        "SELECT name, (at / ?4) * ?4 AS bucket, AVG(value) FROM metrics
         WHERE server_id = ?1 AND at >= ?2 AND at < ?3
         GROUP BY name, bucket ORDER BY name, bucket"
    } else {
        "SELECT name, (at / ?4) * ?4 AS bucket, SUM(avg * samples) / SUM(samples)
         FROM metrics_1m
         WHERE server_id = ?1 AND at >= ?2 AND at < ?3
         GROUP BY name, bucket ORDER BY name, bucket"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![server_id, from, to, step], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, f64>(2)?,
        ))
    })?;
    let mut out: Vec<Series> = Vec::new();
    for row in rows {
        let (name, at, value) = row?;
        match out.last_mut() {
            Some(series) if series.name == name => series.points.push((at, value)),
            _ => out.push(Series {
                name,
                points: vec![(at, value)],
            }),
        }
    }
    Ok(out)
}

/// The newest value of each series of `server_id`.
pub fn latest(conn: &Connection, server_id: i64) -> Result<Vec<Sample>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, MAX(at), value FROM metrics WHERE server_id = ?1 GROUP BY name
         ORDER BY name",
    )?;
    let rows = stmt.query_map(params![server_id], |row| {
        Ok(Sample {
            server_id,
            name: row.get(0)?,
            at: row.get(1)?,
            value: row.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().expect("open");
        crate::store::migrations::apply(&mut conn).expect("migrate");
        conn
    }

    fn sample(server_id: i64, name: &str, at: i64, value: f64) -> Sample {
        Sample {
            server_id,
            name: name.into(),
            at,
            value,
        }
    }

    #[test]
    fn ranges_are_downsampled_from_raw_points_or_rollups() {
        let mut conn = db();
        // Two minutes of a sample every 5 s: cpu climbs 0, 1, 2, …; memory is flat.
        let mut samples = Vec::new();
        for i in 0..24 {
            samples.push(sample(7, "cpu_percent", i * 5_000, i as f64));
            samples.push(sample(7, "memory_bytes", i * 5_000, 1000.0));
        }
        samples.push(sample(HOST, "cpu_percent", 0, 50.0));
        samples.push(sample(7, "broken", 0, f64::NAN));
        insert(&mut conn, &samples).expect("insert");

        let raw = range(&conn, 7, 0, 120_000, 60_000, 0).expect("raw");
        assert_eq!(raw.len(), 2, "the NaN sample was not stored: {raw:?}");
        assert_eq!(raw[0].name, "cpu_percent");
        assert_eq!(raw[0].points, vec![(0, 5.5), (60_000, 17.5)]);
        assert_eq!(raw[1].points, vec![(0, 1000.0), (60_000, 1000.0)]);

        assert_eq!(rollup(&mut conn, 0, 120_000).expect("rollup"), 5);
        assert_eq!(last_rollup(&conn).expect("last"), Some(60_000));
        // Beyond raw retention: the same answer from the rollups, also at a coarser step.
        let rolled = range(&conn, 7, 0, 120_000, 60_000, 1_000_000).expect("rollups");
        assert_eq!(rolled, raw);
        let coarse = range(&conn, 7, 0, 120_000, 120_000, 1_000_000).expect("coarse");
        assert_eq!(coarse[0].points, vec![(0, 11.5)]);

        let now = latest(&conn, 7).expect("latest");
        assert_eq!(now[0].value, 23.0);
        assert_eq!(now[0].at, 115_000);
    }
}
