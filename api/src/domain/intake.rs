//! A new 民情工单 as it arrives: who may report from which channel, and what it must hold.

use minqing_protocol::{NewWorkOrder, Role, WorkOrderSource};

use super::people::{parse_person_name, Phone};
use super::Invalid;

pub const MAX_PHOTOS: usize = 9;

/// A new order that passed every shape rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidOrder {
    pub id: Option<String>,
    pub category: String,
    pub title: String,
    pub description: String,
    pub village_id: String,
    pub position: Option<(f64, f64)>,
    pub address: Option<String>,
    pub photo_ids: Vec<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<Phone>,
    pub source: WorkOrderSource,
    pub resolved_on_spot: bool,
    pub resolution_note: Option<String>,
}

fn text(field: &str, raw: &str, max: usize, errors: &mut Vec<Invalid>) -> String {
    let t = raw.trim();
    if t.is_empty() {
        errors.push(Invalid::new(field, "must not be empty"));
    } else if t.chars().count() > max {
        errors.push(Invalid::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    t.to_string()
}

fn optional(
    field: &str,
    raw: &Option<String>,
    max: usize,
    errors: &mut Vec<Invalid>,
) -> Option<String> {
    let t = raw.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    if t.chars().count() > max {
        errors.push(Invalid::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Some(t.to_string())
}

/// Checks a new order reported by someone of `role` (`None`: anonymous).
/// Villagers and anonymous reporters use `villager`; cadres report from a `visit` (and may
/// have solved it on the spot) or take a `hotline` call; `open311` comes only through the
/// Open311 endpoint.
pub fn parse_new_order(req: &NewWorkOrder, role: Option<Role>) -> Result<ValidOrder, Vec<Invalid>> {
    let mut errors = Vec::new();
    let allowed: &[WorkOrderSource] = match role {
        None | Some(Role::Villager) => &[WorkOrderSource::Villager],
        Some(Role::Cadre) => &[WorkOrderSource::Visit, WorkOrderSource::Hotline],
        Some(Role::Supervisor | Role::Admin) => &[WorkOrderSource::Hotline, WorkOrderSource::Visit],
    };
    if !allowed.contains(&req.source) {
        errors.push(Invalid::new("source", "this source is not open to you"));
    }
    let title = text("title", &req.title, 100, &mut errors);
    let description = text("description", &req.description, 2000, &mut errors);
    let position = match (req.lat, req.lon) {
        (Some(lat), Some(lon)) => {
            if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
                errors.push(Invalid::new("lat", "must be between -90 and 90"));
            }
            if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
                errors.push(Invalid::new("lon", "must be between -180 and 180"));
            }
            Some((lat, lon))
        }
        (None, None) => None,
        _ => {
            errors.push(Invalid::new("lat", "send lat and lon together"));
            None
        }
    };
    let address = optional("address", &req.address, 200, &mut errors);
    let photo_ids = req.photo_ids.clone().unwrap_or_default();
    if photo_ids.len() > MAX_PHOTOS {
        errors.push(Invalid::new(
            "photo_ids",
            format!("at most {MAX_PHOTOS} photos"),
        ));
    }
    let reporter_name = match req
        .reporter_name
        .as_deref()
        .map(parse_person_name)
        .transpose()
    {
        Ok(name) => name,
        Err(e) => {
            errors.push(Invalid::new("reporter_name", e.message));
            None
        }
    };
    let reporter_phone = match req.reporter_phone.as_deref().map(Phone::parse).transpose() {
        Ok(phone) => phone,
        Err(e) => {
            errors.push(Invalid::new("reporter_phone", e.message));
            None
        }
    };
    if role.is_none() {
        if req.reporter_name.is_none() {
            errors.push(Invalid::new(
                "reporter_name",
                "is required without an account",
            ));
        }
        if req.reporter_phone.is_none() {
            errors.push(Invalid::new(
                "reporter_phone",
                "is required without an account",
            ));
        }
    }
    let resolved_on_spot = req.resolved_on_spot.unwrap_or(false);
    let resolution_note = optional("resolution_note", &req.resolution_note, 2000, &mut errors);
    if resolved_on_spot && req.source != WorkOrderSource::Visit {
        errors.push(Invalid::new(
            "resolved_on_spot",
            "only a cadre's visit solves an issue on the spot",
        ));
    }
    if resolved_on_spot && resolution_note.is_none() {
        errors.push(Invalid::new(
            "resolution_note",
            "say how it was solved on the spot",
        ));
    }
    if req
        .id
        .as_deref()
        .is_some_and(|id| !super::is_client_uuid(id))
    {
        errors.push(Invalid::new("id", "must be a UUID made by the client"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidOrder {
        id: req.id.as_ref().map(|i| i.to_ascii_lowercase()),
        category: req.category.trim().to_string(),
        title,
        description,
        village_id: req.village_id.clone(),
        position,
        address,
        photo_ids,
        reporter_name,
        reporter_phone,
        source: req.source,
        resolved_on_spot,
        resolution_note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(source: WorkOrderSource) -> NewWorkOrder {
        NewWorkOrder {
            id: None,
            category: "road".into(),
            title: "村口路灯坏了".into(),
            description: "晚上看不见路".into(),
            village_id: "v".into(),
            lat: Some(29.08),
            lon: Some(119.65),
            address: None,
            photo_ids: None,
            reporter_name: None,
            reporter_phone: None,
            source,
            resolved_on_spot: None,
            resolution_note: None,
        }
    }

    fn fields(errors: Vec<Invalid>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn channels_by_role() {
        assert!(parse_new_order(&order(WorkOrderSource::Villager), Some(Role::Villager)).is_ok());
        assert!(parse_new_order(&order(WorkOrderSource::Visit), Some(Role::Cadre)).is_ok());
        assert_eq!(
            fields(
                parse_new_order(&order(WorkOrderSource::Visit), Some(Role::Villager)).unwrap_err()
            ),
            vec!["source"]
        );
        assert_eq!(
            fields(
                parse_new_order(&order(WorkOrderSource::Open311), Some(Role::Admin)).unwrap_err()
            ),
            vec!["source"]
        );
    }

    #[test]
    fn anonymous_reporters_leave_a_name_and_phone() {
        let err = parse_new_order(&order(WorkOrderSource::Villager), None).unwrap_err();
        assert_eq!(fields(err), vec!["reporter_name", "reporter_phone"]);
        let mut ok = order(WorkOrderSource::Villager);
        ok.reporter_name = Some("孙婆婆".into());
        ok.reporter_phone = Some("13655556666".into());
        let valid = parse_new_order(&ok, None).unwrap();
        assert_eq!(valid.reporter_phone.unwrap().as_str(), "13655556666");
    }

    #[test]
    fn on_the_spot_needs_a_visit_and_a_note() {
        let mut spot = order(WorkOrderSource::Visit);
        spot.resolved_on_spot = Some(true);
        assert_eq!(
            fields(parse_new_order(&spot, Some(Role::Cadre)).unwrap_err()),
            vec!["resolution_note"]
        );
        spot.resolution_note = Some("当场联系电工修好".into());
        assert!(
            parse_new_order(&spot, Some(Role::Cadre))
                .unwrap()
                .resolved_on_spot
        );
        spot.source = WorkOrderSource::Hotline;
        assert_eq!(
            fields(parse_new_order(&spot, Some(Role::Cadre)).unwrap_err()),
            vec!["resolved_on_spot"]
        );
    }

    #[test]
    fn shape_rules() {
        let mut bad = order(WorkOrderSource::Villager);
        bad.title = " ".into();
        bad.lat = Some(95.0);
        bad.lon = None;
        bad.id = Some("x".into());
        assert_eq!(
            fields(parse_new_order(&bad, Some(Role::Villager)).unwrap_err()),
            vec!["title", "lat", "id"]
        );
    }
}
