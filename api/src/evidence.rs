//! Evidence that cannot be recycled (DESIGN §2.2): what the database knows, for
//! `domain::checkin::assess` to judge, about a new check-in's photos having been used before
//! (`photo_reused`), its fix having been reported before (`repeated_position`), and the
//! photos its town requires (`photo_missing`).

use minqing_protocol::CheckinKind;

use crate::db::checkins;
use crate::db::media::MediaRow;
use crate::db::models::utc;
use crate::db::{org, DbConn};
use crate::domain::checkin::{CheckinRules, EarlierFix, ValidCheckin};
use crate::domain::coords::LatLon;
use crate::domain::photo_hash::{
    band_probes, closest_use, distance, from_stored, from_text, EarlierUse, Reuse, MAX_DISTANCE,
};
use crate::error::{ApiError, ApiResult};

/// What a new check-in must be checked against.
#[derive(Debug, Clone, Default)]
pub struct Recycling {
    /// For each photo, in order: the earlier check-in holding it, if any.
    pub reuses: Vec<Option<Reuse>>,
    pub earlier_fixes: Vec<EarlierFix>,
    /// The town's own list of kinds that need a photo, if it has one.
    pub town_photo_kinds: Option<Vec<CheckinKind>>,
}

/// Reads it all for `user_id`'s check-in `valid`, made at the unit on `place_path` (a
/// village, or a session's place), with `photos`.
pub fn gather(
    conn: &mut DbConn,
    rules: &CheckinRules,
    user_id: &str,
    valid: &ValidCheckin,
    place_path: &str,
    photos: &[MediaRow],
) -> ApiResult<Recycling> {
    let reuses = photos
        .iter()
        .map(|m| earlier_use(conn, m))
        .collect::<ApiResult<Vec<_>>>()?;
    let until = (valid.recorded_at - rules.repeat_after).naive_utc();
    let reported = (valid.reported.lat, valid.reported.lon);
    let earlier_fixes = checkins::same_position(conn, user_id, reported, until)?
        .into_iter()
        .map(|(checkin_id, lat, lon, accuracy_m, at)| EarlierFix {
            checkin_id,
            reported: LatLon { lat, lon },
            accuracy_m,
            recorded_at: utc(at),
        })
        .collect();
    let town_photo_kinds = match org::town_photo_required_kinds(conn, place_path)?.flatten() {
        Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
            ApiError::Internal(anyhow::anyhow!(
                "a town's photo_required_kinds is not a list of kinds: {e}"
            ))
        })?),
        None => None,
    };
    Ok(Recycling {
        reuses,
        earlier_fixes,
        town_photo_kinds,
    })
}

/// The check-in already holding this photo or a near copy of it: candidates by content
/// hash and by band, checked by full distance here, then the closest one's time read.
pub fn earlier_use(conn: &mut DbConn, photo: &MediaRow) -> ApiResult<Option<Reuse>> {
    // A photo stored before hashes were kept matches by its bytes alone.
    let hashes = photo
        .photo_hashes
        .as_deref()
        .map(from_text)
        .unwrap_or_default();
    let held = checkins::photos_like(conn, &photo.sha256, &band_probes(&hashes))?;
    let close: Vec<_> = held
        .into_iter()
        .filter_map(|(checkin_id, sha256, high, low)| {
            let hash = high.zip(low).map(|(h, l)| from_stored(h, l));
            let near = sha256 == photo.sha256
                || hash.is_some_and(|stored| {
                    hashes.iter().any(|h| distance(*h, stored) <= MAX_DISTANCE)
                });
            near.then_some((checkin_id, sha256, hash))
        })
        .collect();
    let ids: Vec<String> = close.iter().map(|(id, _, _)| id.clone()).collect();
    let times = checkins::recorded_at_of(conn, &ids)?;
    let uses: Vec<EarlierUse> = close
        .into_iter()
        .filter_map(|(checkin_id, sha256, hash)| {
            let recorded_at = utc(*times.get(&checkin_id)?);
            Some(EarlierUse {
                checkin_id,
                recorded_at,
                sha256,
                hash,
            })
        })
        .collect();
    Ok(closest_use(&photo.sha256, &hashes, &uses))
}
