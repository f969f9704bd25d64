//! Users: phone numbers, names, passwords, and what each role's profile must hold.

use minqing_protocol::{CadreCategory, OrgUnitKind, RaterGroup, Role, StaffType};

use super::Invalid;

/// A mainland mobile number, normalised to its 11 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Phone, Invalid> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .unwrap_or(&digits);
        let bytes = digits.as_bytes();
        let valid = bytes.len() == 11
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1]);
        if !valid {
            return Err(Invalid::new(
                "phone",
                "must be an 11-digit mainland mobile number such as 13800138000",
            ));
        }
        Ok(Phone(digits.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Shows the first three and last four digits (138****5678), as Chinese services do.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

pub fn parse_person_name(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err(Invalid::new("name", "must not be empty")),
        1..=50 => Ok(name.to_string()),
        _ => Err(Invalid::new("name", "must be at most 50 characters")),
    }
}

pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 128;

pub fn check_password(raw: &str) -> Result<(), Invalid> {
    let n = raw.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(Invalid::new(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(Invalid::new(
            "password",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// What a user's role-dependent fields are, as asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileRequest {
    pub role: Role,
    /// The kind of the user's org unit, if they have one.
    pub org_kind: Option<OrgUnitKind>,
    pub cadre_category: Option<CadreCategory>,
    pub staff_type: Option<StaffType>,
    pub rater_group: Option<RaterGroup>,
}

/// A checked profile, defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    pub cadre_category: Option<CadreCategory>,
    pub staff_type: Option<StaffType>,
    pub rater_group: Option<RaterGroup>,
}

pub fn default_staff_type(category: CadreCategory) -> StaffType {
    match category {
        CadreCategory::Leadership | CadreCategory::Organ => StaffType::Established,
        CadreCategory::Village => StaffType::NonEstablished,
    }
}

/// The democratic-evaluation group a staff member rates in unless set explicitly.
/// Middle managers (中层) cannot be told from category and staff type; they are set by hand.
pub fn default_rater_group(category: CadreCategory, staff: StaffType) -> RaterGroup {
    match (category, staff) {
        (CadreCategory::Leadership, _) => RaterGroup::Leadership,
        (_, StaffType::Established) => RaterGroup::Established,
        (_, StaffType::Instructor | StaffType::NonEstablished) => RaterGroup::NonEstablished,
    }
}

/// Checks a role's required and forbidden fields and fills in defaults.
pub fn check_profile(req: ProfileRequest) -> Result<Profile, Vec<Invalid>> {
    let mut errors = Vec::new();
    let staff_role = matches!(req.role, Role::Supervisor | Role::Cadre);
    if req.role != Role::Admin && req.org_kind.is_none() {
        errors.push(Invalid::new("org_unit_id", "is required for this role"));
    }
    if req.role == Role::Villager && req.org_kind.is_some_and(|k| k != OrgUnitKind::Village) {
        errors.push(Invalid::new(
            "org_unit_id",
            "a villager belongs to a village",
        ));
    }
    if req.role == Role::Cadre && req.cadre_category.is_none() {
        errors.push(Invalid::new(
            "cadre_category",
            "is required for a cadre (leadership, organ or village)",
        ));
    }
    if !staff_role {
        for (field, present) in [
            ("cadre_category", req.cadre_category.is_some()),
            ("staff_type", req.staff_type.is_some()),
            ("rater_group", req.rater_group.is_some()),
        ] {
            if present {
                errors.push(Invalid::new(
                    field,
                    "applies only to cadres and supervisors",
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(category) = req.cadre_category.filter(|_| staff_role) else {
        return Ok(Profile {
            cadre_category: None,
            staff_type: req.staff_type.filter(|_| staff_role),
            rater_group: req.rater_group.filter(|_| staff_role),
        });
    };
    let staff = req
        .staff_type
        .unwrap_or_else(|| default_staff_type(category));
    Ok(Profile {
        cadre_category: Some(category),
        staff_type: Some(staff),
        rater_group: Some(
            req.rater_group
                .unwrap_or_else(|| default_rater_group(category, staff)),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phones() {
        assert_eq!(
            Phone::parse("138 0013 8000").unwrap().as_str(),
            "13800138000"
        );
        assert_eq!(
            Phone::parse("+8613800138000").unwrap().as_str(),
            "13800138000"
        );
        assert!(Phone::parse("12800138000").is_err());
        assert!(Phone::parse("1380013800").is_err());
        assert!(Phone::parse("1380013800a").is_err());
        assert_eq!(mask_phone("13812345678"), "138****5678");
    }

    proptest! {
        #[test]
        fn masking_keeps_length_and_hides_the_middle(digits in "1[3-9][0-9]{9}") {
            let masked = mask_phone(&digits);
            prop_assert_eq!(masked.len(), 11);
            prop_assert_eq!(&masked[..3], &digits[..3]);
            prop_assert_eq!(&masked[7..], &digits[7..]);
            prop_assert_eq!(&masked[3..7], "****");
        }

        #[test]
        fn phone_parse_never_panics(raw in "\\PC{0,20}") {
            let _ = Phone::parse(&raw);
        }
    }

    fn request(role: Role, org: Option<OrgUnitKind>) -> ProfileRequest {
        ProfileRequest {
            role,
            org_kind: org,
            cadre_category: None,
            staff_type: None,
            rater_group: None,
        }
    }

    #[test]
    fn cadre_needs_a_category_and_gets_defaults() {
        let err = check_profile(request(Role::Cadre, Some(OrgUnitKind::Town))).unwrap_err();
        assert_eq!(err[0].field, "cadre_category");
        let profile = check_profile(ProfileRequest {
            cadre_category: Some(CadreCategory::Village),
            ..request(Role::Cadre, Some(OrgUnitKind::Village))
        })
        .unwrap();
        assert_eq!(profile.staff_type, Some(StaffType::NonEstablished));
        assert_eq!(profile.rater_group, Some(RaterGroup::NonEstablished));
        let leader = check_profile(ProfileRequest {
            cadre_category: Some(CadreCategory::Leadership),
            ..request(Role::Cadre, Some(OrgUnitKind::Town))
        })
        .unwrap();
        assert_eq!(leader.rater_group, Some(RaterGroup::Leadership));
        let middle = check_profile(ProfileRequest {
            cadre_category: Some(CadreCategory::Organ),
            rater_group: Some(RaterGroup::Middle),
            ..request(Role::Cadre, Some(OrgUnitKind::Town))
        })
        .unwrap();
        assert_eq!(middle.rater_group, Some(RaterGroup::Middle));
        assert_eq!(middle.staff_type, Some(StaffType::Established));
    }

    #[test]
    fn villagers_live_in_villages_and_have_no_cadre_fields() {
        assert!(check_profile(request(Role::Villager, Some(OrgUnitKind::Village))).is_ok());
        let err = check_profile(request(Role::Villager, Some(OrgUnitKind::Town))).unwrap_err();
        assert_eq!(err[0].field, "org_unit_id");
        let err = check_profile(ProfileRequest {
            staff_type: Some(StaffType::Established),
            ..request(Role::Villager, Some(OrgUnitKind::Village))
        })
        .unwrap_err();
        assert_eq!(err[0].field, "staff_type");
    }

    #[test]
    fn only_admins_may_have_no_org_unit() {
        assert!(check_profile(request(Role::Admin, None)).is_ok());
        for role in [Role::Supervisor, Role::Cadre, Role::Villager] {
            let err = check_profile(request(role, None)).unwrap_err();
            assert!(err.iter().any(|e| e.field == "org_unit_id"), "{role:?}");
        }
    }

    #[test]
    fn passwords_and_names() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
        assert_eq!(parse_person_name(" 王芳 ").unwrap(), "王芳");
        assert!(parse_person_name("").is_err());
    }
}
