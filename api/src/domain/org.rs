//! The org tree: county > town > community / village / department.

use minqing_protocol::OrgUnitKind;
use rand::Rng;

use super::Invalid;

/// Which kinds of unit may hold a unit of `kind`; `None` in the list means "may be a root".
pub fn allowed_parents(kind: OrgUnitKind) -> &'static [Option<OrgUnitKind>] {
    use OrgUnitKind::*;
    match kind {
        County => &[None],
        Town => &[Some(County)],
        Department => &[Some(County), Some(Town)],
        Community => &[Some(Town)],
        Village => &[Some(Town), Some(Community)],
    }
}

/// Checks that a unit of `kind` may sit under a parent of `parent_kind` (`None`: no parent).
pub fn check_parent(kind: OrgUnitKind, parent_kind: Option<OrgUnitKind>) -> Result<(), Invalid> {
    if allowed_parents(kind).contains(&parent_kind) {
        return Ok(());
    }
    let allowed: Vec<String> = allowed_parents(kind)
        .iter()
        .map(|p| p.map_or("no parent".to_string(), |k| kind_name(k).to_string()))
        .collect();
    Err(Invalid::new(
        "parent_id",
        format!(
            "a {} must have {} as parent",
            kind_name(kind),
            allowed.join(" or ")
        ),
    ))
}

pub fn kind_name(kind: OrgUnitKind) -> &'static str {
    match kind {
        OrgUnitKind::County => "county",
        OrgUnitKind::Town => "town",
        OrgUnitKind::Community => "community",
        OrgUnitKind::Village => "village",
        OrgUnitKind::Department => "department",
    }
}

/// The materialised path of a unit: its parent's path followed by its own id.
pub fn child_path(parent_path: Option<&str>, id: &str) -> String {
    format!("{}{}/", parent_path.unwrap_or("/"), id)
}

/// Whether the unit at `path` lies in the subtree rooted at `root_path` (itself included).
pub fn in_subtree(path: &str, root_path: &str) -> bool {
    path.starts_with(root_path)
}

pub fn parse_unit_name(field: &str, raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err(Invalid::new(field, "must not be empty")),
        1..=100 => Ok(name.to_string()),
        _ => Err(Invalid::new(field, "must be at most 100 characters")),
    }
}

/// Codes are short identifiers such as an administrative division code (`330782101`).
pub fn parse_code(raw: &str) -> Result<String, Invalid> {
    let code = raw.trim();
    let ok_chars = code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if code.is_empty() || code.len() > 32 || !ok_chars {
        return Err(Invalid::new(
            "code",
            "must be 1 to 32 characters of letters, digits, '-' or '_'",
        ));
    }
    Ok(code.to_string())
}

/// Letters and digits of generated village codes: none that reads like another (0/o, 1/i/l).
pub const VILLAGE_CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
pub const VILLAGE_CODE_LEN: usize = 6;

/// A random village code for `/v/{code}`, e.g. `k7pm3x`: short enough to type from a card.
pub fn generate_village_code(rng: &mut impl Rng) -> String {
    (0..VILLAGE_CODE_LEN)
        .map(|_| {
            char::from(VILLAGE_CODE_ALPHABET[rng.random_range(0..VILLAGE_CODE_ALPHABET.len())])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrgUnitKind::*;

    #[test]
    fn tree_shape() {
        assert!(check_parent(County, None).is_ok());
        assert!(check_parent(Town, Some(County)).is_ok());
        assert!(check_parent(Village, Some(Town)).is_ok());
        assert!(check_parent(Village, Some(Community)).is_ok());
        assert!(check_parent(Department, Some(County)).is_ok());
        let err = check_parent(Village, Some(County)).unwrap_err();
        assert_eq!(err.field, "parent_id");
        assert!(err.message.contains("town or community"), "{}", err.message);
        assert!(check_parent(Town, None).is_err());
        assert!(check_parent(County, Some(County)).is_err());
    }

    #[test]
    fn paths_and_subtrees() {
        let county = child_path(None, "c");
        let town = child_path(Some(&county), "t");
        assert_eq!(town, "/c/t/");
        assert!(in_subtree(&town, &county));
        assert!(in_subtree(&town, &town));
        assert!(!in_subtree(&county, &town));
        // Sibling ids that share a prefix are not each other's subtree.
        assert!(!in_subtree("/c/t2/", "/c/t/"));
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(parse_unit_name("name", "  青山镇 ").unwrap(), "青山镇");
        assert!(parse_unit_name("name", "   ").is_err());
        assert!(parse_unit_name("name", &"村".repeat(101)).is_err());
        assert_eq!(parse_code("330782101").unwrap(), "330782101");
        assert!(parse_code("a b").is_err());
        assert!(parse_code("").is_err());
    }

    #[test]
    fn generated_village_codes() {
        assert!(!VILLAGE_CODE_ALPHABET.iter().any(|b| b"01ilo".contains(b)));
        let mut rng = rand::rng();
        for _ in 0..200 {
            let code = generate_village_code(&mut rng);
            assert_eq!(code.len(), VILLAGE_CODE_LEN);
            assert!(
                code.bytes().all(|b| VILLAGE_CODE_ALPHABET.contains(&b)),
                "{code}"
            );
            assert_eq!(parse_code(&code).unwrap(), code, "a valid admin code too");
        }
    }
}
