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

/// Passwords tried first by anyone guessing (leaked-password rankings, Chinese favourites
/// first), compared without regard to case. Those under 8 characters are refused for their
/// length anyway; they stay listed so the list reads as what it is.
#[rustfmt::skip]
const COMMON_PASSWORDS: &[&str] = &[
    "123456", "123456789", "12345678", "1234567890", "111111", "11111111", "000000", "00000000",
    "888888", "88888888", "666666", "66666666", "123123", "123123123", "12341234", "1234512345",
    "11223344", "112233", "147258369", "147258", "159357", "987654321", "87654321", "654321",
    "123321", "1qaz2wsx", "1q2w3e4r", "1q2w3e4r5t", "1q2w3e", "q1w2e3r4", "qwerty", "qwerty123",
    "qwertyuiop", "qwer1234", "1234qwer", "asdfghjkl", "asdf1234", "zxcvbnm", "zxcvbnm123",
    "password", "password1", "password123", "passw0rd", "p@ssw0rd", "iloveyou", "abc123",
    "abc12345", "abc123456", "abcd1234", "a123456", "a1234567", "a12345678", "a123456789",
    "aa123456", "aa12345678", "qq123456", "qq12345678", "asd123456", "123456a", "123456aa",
    "123456abc", "123456789a", "woaini", "woaini1314", "woaini520", "woaini123", "woaini521",
    "5201314", "52013145201314", "5201314520", "1314520", "13145200", "1314520520", "520520520",
    "admin", "admin123", "admin888", "admin12345", "root1234", "test1234", "welcome1",
    "sunshine", "princess", "football", "baseball", "superman", "monkey123", "dragon123",
    "shadow123", "master123", "letmein1", "trustno1", "google123", "computer", "internet",
    "zhang123", "wang1234", "li123456", "liu123456", "chen123456", "zhangwei", "wangwei",
    "aini1314", "1314woaini", "iloveyou1314",
];

/// Whether `raw` breaks a password rule: length, control characters, only spaces, a
/// well-known password, one character over and over, or (when `phone` is known) the user's
/// own phone number anywhere in it, with or without separators.
pub fn check_password(raw: &str, phone: Option<&str>) -> Result<(), Invalid> {
    let refuse = |message: String| Err(Invalid::new("password", message));
    let n = raw.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return refuse(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if n > MAX_PASSWORD_CHARS {
        return refuse(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    if raw.chars().any(char::is_control) {
        return refuse("must not contain control characters such as tabs or line breaks".into());
    }
    if raw.chars().all(char::is_whitespace) {
        return refuse("must not be only spaces".into());
    }
    let lower = raw.trim().to_lowercase();
    let mut chars = lower.chars();
    let one_character = chars.next().is_some_and(|first| chars.all(|c| c == first));
    if one_character || COMMON_PASSWORDS.contains(&lower.as_str()) {
        return refuse("is too common and would be guessed first; choose another".into());
    }
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if phone.is_some_and(|p| !p.is_empty() && digits.contains(p)) {
        return refuse("must not contain your phone number".into());
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
        assert!(check_password("short", None).is_err());
        assert!(check_password("long enough", None).is_ok());
        assert_eq!(parse_person_name(" 王芳 ").unwrap(), "王芳");
        assert!(parse_person_name("").is_err());
    }

    fn refusal(raw: &str, phone: Option<&str>) -> String {
        let err = check_password(raw, phone).expect_err(raw);
        assert_eq!(err.field, "password");
        err.message
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for raw in [
            "123456789",
            "woaini1314",
            "QQ123456",
            "Password1",
            "a12345678",
        ] {
            assert!(refusal(raw, None).contains("too common"), "{raw}");
        }
        assert!(refusal("12345678 ", None).contains("too common"));
        for raw in ["111111", "5201314", "123456"] {
            assert!(refusal(raw, None).contains("at least"), "{raw}");
        }
        assert!(refusal("zzzzzzzzzz", None).contains("too common"));
        assert!(check_password("woaini1314-溪口村", None).is_ok());
    }

    #[test]
    fn spaces_and_control_characters_are_refused() {
        assert!(refusal("        ", None).contains("only spaces"));
        assert!(refusal(
            "\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}",
            None
        )
        .contains("only spaces"));
        assert!(refusal("pass\tword-1", None).contains("control"));
        assert!(refusal("password-1\n", None).contains("control"));
        assert!(refusal("pass\u{0}word-1", None).contains("control"));
        assert!(check_password("a long pass phrase", None).is_ok());
    }

    #[test]
    fn the_own_phone_number_is_refused_anywhere_in_the_password() {
        let phone = Some("13812345678");
        for raw in [
            "13812345678",
            "wx13812345678!",
            "138-1234-5678",
            "138 1234 5678",
        ] {
            assert!(refusal(raw, phone).contains("phone"), "{raw}");
        }
        assert!(check_password("13812345678", Some("13900000000")).is_ok());
        assert!(check_password("1381234567x", phone).is_ok());
        assert!(check_password("13812345678", None).is_ok());
    }

    proptest! {
        #[test]
        fn password_checks_never_panic(raw in "\\PC{0,40}", phone in "1[3-9][0-9]{9}") {
            let _ = check_password(&raw, Some(&phone));
        }
    }
}
