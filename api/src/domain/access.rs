//! Authorization, in one place: who may do what, and over which part of the org tree.
//!
//! A role that may never do something is refused (403). A record outside the part of the
//! tree the actor may see answers as if it did not exist (404), so one town cannot probe
//! another's data.

use minqing_protocol::Role;

use super::org::in_subtree;
use super::work_order::Party;

/// The signed-in user, as authorization sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub role: Role,
    pub org_unit_id: Option<String>,
    /// The materialised path of the actor's org unit (see `org::child_path`).
    pub org_path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadOrgUnits,
    ManageOrgUnits,
    ReadUsers,
    ManageUsers,
    /// Record one's own check-ins.
    SubmitCheckins,
    ReadCheckins,
    ReviewCheckins,
    UploadMedia,
    /// Work-order categories and the working-day calendar.
    ManageCategories,
    ManageCalendar,
    /// Deadline compliance reports over work orders.
    ReadCompliance,
    ManageWebhooks,
    /// Scoring schemes, the veto areas, and closing periods.
    ManageScoring,
    /// Scores, their breakdowns and the records closing a period writes.
    ReadScores,
    /// Adjustments and vetoes with their second signatures (and a veto's withdrawal), and
    /// recusals.
    JudgeScores,
    /// Democratic evaluation of colleagues.
    RateColleagues,
    /// Evidence that one's own problem record was rectified.
    RectifyRecords,
    /// Deciding on that evidence (销号): supervisors of the owner's town.
    VerifyRecords,
    /// The audit log: the admin only.
    ReadAudit,
}

/// The part of the org tree an actor may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Everything,
    Subtree(String),
    /// Only records that belong to this user.
    Own(String),
}

impl Reach {
    /// Whether a record filed under the unit at `path` is within reach;
    /// records under no unit (admins) are reached only by `Everything`.
    pub fn covers(&self, path: Option<&str>) -> bool {
        match (self, path) {
            (Reach::Everything, _) => true,
            (Reach::Subtree(root), Some(path)) => in_subtree(path, root),
            (Reach::Subtree(_), None) => false,
            (Reach::Own(_), _) => false,
        }
    }

    /// The subtree a list is confined to (`None`: everything). Lists of records that have no
    /// owner cannot be reached by ownership.
    pub fn subtree(self) -> Result<Option<String>, Denial> {
        match self {
            Reach::Everything => Ok(None),
            Reach::Subtree(path) => Ok(Some(path)),
            Reach::Own(_) => Err(Denial::Forbidden),
        }
    }

    /// Narrows a list of owned records that the client may filter by owner: the subtree to
    /// search and the owner to keep. `None` when the actor may see only their own records
    /// and asked for someone else's: the answer is an empty list.
    pub fn scope_owned(
        self,
        requested_owner: Option<String>,
    ) -> Option<(Option<String>, Option<String>)> {
        match self {
            Reach::Everything => Some((None, requested_owner)),
            Reach::Subtree(path) => Some((Some(path), requested_owner)),
            Reach::Own(user) if requested_owner.as_ref().is_none_or(|r| r == &user) => {
                Some((None, Some(user)))
            }
            Reach::Own(_) => None,
        }
    }

    /// Whether a record owned by `owner` and filed under `path` is within reach.
    pub fn covers_record(&self, path: Option<&str>, owner: &str) -> bool {
        match self {
            Reach::Own(user) => user == owner,
            other => other.covers(path),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The role may never do this.
    Forbidden,
    /// The record is outside the actor's reach: answer as if it did not exist.
    Hidden,
}

/// How far an actor's permission for `action` reaches.
pub fn reach(actor: &Actor, action: Action) -> Result<Reach, Denial> {
    use Action::*;
    match (actor.role, action) {
        // Check-ins prove one's own field work, ratings are among colleagues, records are
        // rectified by their owner and verified within the town; admins do none of these.
        (Role::Admin, SubmitCheckins | RateColleagues | RectifyRecords | VerifyRecords) => {
            Err(Denial::Forbidden)
        }
        (Role::Admin, _) => Ok(Reach::Everything),
        (_, UploadMedia) => Ok(Reach::Own(actor.user_id.clone())),
        (
            Role::Supervisor,
            ReadOrgUnits | ReadUsers | ManageUsers | ReadCheckins | ReviewCheckins | ReadCompliance
            | ReadScores | JudgeScores | VerifyRecords,
        ) => actor
            .org_path
            .clone()
            .map(Reach::Subtree)
            .ok_or(Denial::Forbidden),
        (Role::Cadre, SubmitCheckins | ReadCheckins | ReadScores | RectifyRecords)
        | (Role::Cadre | Role::Supervisor, RateColleagues | RectifyRecords) => {
            Ok(Reach::Own(actor.user_id.clone()))
        }
        _ => Err(Denial::Forbidden),
    }
}

/// Checks `action` on a record owned by `owner` and filed under the unit at `target_path`.
pub fn authorize_record(
    actor: &Actor,
    action: Action,
    target_path: Option<&str>,
    owner: &str,
) -> Result<(), Denial> {
    if reach(actor, action)?.covers_record(target_path, owner) {
        Ok(())
    } else {
        Err(Denial::Hidden)
    }
}

/// Checks `action` on a record filed under the unit at `target_path`.
pub fn authorize(actor: &Actor, action: Action, target_path: Option<&str>) -> Result<(), Denial> {
    if reach(actor, action)?.covers(target_path) {
        Ok(())
    } else {
        Err(Denial::Hidden)
    }
}

/// Where a check-in stands in the org tree.
#[derive(Debug, Clone, Copy)]
pub struct CheckinFacts<'a> {
    /// The path of the village it was made in.
    pub village_path: &'a str,
    /// The path of the cadre's own unit (none for a user outside the tree).
    pub cadre_path: Option<&'a str>,
    pub owner: &'a str,
}

/// Checks `action` on a check-in. It is reviewed in the cadre's own subtree, where their
/// supervisor answers for their month; the village's subtree may read it (403 on a review,
/// since it can see it), and nobody reviews a check-in of their own.
pub fn authorize_checkin(
    actor: &Actor,
    action: Action,
    facts: &CheckinFacts,
) -> Result<(), Denial> {
    let reach = reach(actor, action)?;
    let allowed = match action {
        Action::ReviewCheckins => facts.owner != actor.user_id && reach.covers(facts.cadre_path),
        _ => {
            reach.covers_record(Some(facts.village_path), facts.owner)
                || reach.covers(facts.cadre_path)
        }
    };
    if allowed {
        Ok(())
    } else if action == Action::ReviewCheckins
        && authorize_checkin(actor, Action::ReadCheckins, facts).is_ok()
    {
        Err(Denial::Forbidden)
    } else {
        Err(Denial::Hidden)
    }
}

/// The people an order concerns, as authorization sees them.
#[derive(Debug, Clone, Copy)]
pub struct OrderFacts<'a> {
    /// The path of the order's village.
    pub org_path: &'a str,
    pub unit_id: Option<&'a str>,
    pub assignee_id: Option<&'a str>,
    pub reporter_id: Option<&'a str>,
}

/// The capacities in which `actor` stands toward an order; none means the order is hidden
/// from them (404). Supervisors act on orders of their subtree; members of the assigned
/// unit (and the assignee) work on it; the reporter rates it.
pub fn order_parties(actor: &Actor, order: &OrderFacts) -> Vec<Party> {
    let mut parties = Vec::new();
    let supervises = match actor.role {
        Role::Admin => true,
        Role::Supervisor => actor
            .org_path
            .as_deref()
            .is_some_and(|root| in_subtree(order.org_path, root)),
        _ => false,
    };
    if supervises {
        parties.push(Party::Supervisor);
    }
    let staff = matches!(actor.role, Role::Cadre | Role::Supervisor);
    let assigned = order.assignee_id == Some(actor.user_id.as_str())
        || (order.unit_id.is_some() && order.unit_id == actor.org_unit_id.as_deref());
    if staff && assigned {
        parties.push(Party::Assignee);
    }
    if order.reporter_id == Some(actor.user_id.as_str()) {
        parties.push(Party::Reporter);
    }
    parties
}

/// Whether an actor may create a user of `role`, or change a user who has or gets that role.
/// Supervisors manage the people of their subtree, not other supervisors or admins.
pub fn may_manage_role(actor: &Actor, role: Role) -> Result<(), Denial> {
    match (actor.role, role) {
        (Role::Admin, _) => Ok(()),
        (Role::Supervisor, Role::Cadre | Role::Villager) => Ok(()),
        _ => Err(Denial::Forbidden),
    }
}

/// What a staff member may do with the 夜学 / 夜议 sessions and 工作日志 of a town. `town` is
/// the path of the town the actor works in (for a supervisor, their own subtree).
#[derive(Debug, Clone, Copy)]
pub struct TownStaff<'a> {
    pub actor: &'a Actor,
    pub town: Option<&'a str>,
    /// A cadre of the town's leadership (班子成员), who reads and comments the logs too.
    pub leadership: bool,
}

impl TownStaff<'_> {
    /// The part of the tree whose sessions the actor sees: the admin everything, staff
    /// their town.
    pub fn sessions_reach(&self) -> Result<Reach, Denial> {
        match (self.actor.role, self.town) {
            (Role::Admin, _) => Ok(Reach::Everything),
            (Role::Supervisor | Role::Cadre, Some(town)) => Ok(Reach::Subtree(town.to_string())),
            _ => Err(Denial::Forbidden),
        }
    }

    /// Opening a session at the place at `place_path` (cadres and supervisors of its town).
    pub fn may_organise(&self, place_path: &str) -> Result<(), Denial> {
        if self.actor.role == Role::Admin {
            return Err(Denial::Forbidden);
        }
        self.may_read(place_path)
    }

    pub fn may_read(&self, place_path: &str) -> Result<(), Denial> {
        if self.sessions_reach()?.covers(Some(place_path)) {
            Ok(())
        } else {
            Err(Denial::Hidden)
        }
    }

    /// Adding minutes: the organiser, or a supervisor over the place.
    pub fn may_amend(&self, place_path: &str, organiser_id: &str) -> Result<(), Denial> {
        self.may_read(place_path)?;
        let supervises = self.actor.role == Role::Supervisor
            && self
                .actor
                .org_path
                .as_deref()
                .is_some_and(|root| in_subtree(place_path, root));
        if organiser_id == self.actor.user_id || supervises {
            Ok(())
        } else {
            Err(Denial::Forbidden)
        }
    }

    /// Checking in to a session: a cadre of its town.
    pub fn may_attend(&self, place_path: &str) -> Result<(), Denial> {
        if self.actor.role != Role::Cadre {
            return Err(Denial::Forbidden);
        }
        self.may_read(place_path)
    }

    /// How the actor stands toward the work log of `owner`, whose unit lies at `owner_path`:
    /// its writer, a leader who reads and comments, or the admin who only reads.
    pub fn log_reader(&self, owner: &str, owner_path: &str) -> Result<LogReader, Denial> {
        let covers = |root: Option<&str>| root.is_some_and(|r| in_subtree(owner_path, r));
        match self.actor.role {
            Role::Villager => Err(Denial::Forbidden),
            _ if owner == self.actor.user_id => Ok(LogReader::Writer),
            Role::Admin => Ok(LogReader::Auditor),
            Role::Supervisor if covers(self.actor.org_path.as_deref()) => Ok(LogReader::Leader),
            Role::Cadre if self.leadership && covers(self.town) => Ok(LogReader::Leader),
            _ => Err(Denial::Hidden),
        }
    }
}

/// Who reads a work log, and so what they may do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogReader {
    /// Writes it on its day and reads the comments.
    Writer,
    /// The town's supervisors and the cadre's leadership: read and comment (批阅).
    Leader,
    /// The admin: reads.
    Auditor,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, path: Option<&str>) -> Actor {
        Actor {
            user_id: "u".into(),
            role,
            org_unit_id: path.map(|_| "unit".into()),
            org_path: path.map(str::to_string),
        }
    }

    #[test]
    fn admins_reach_everything() {
        let admin = actor(Role::Admin, None);
        for action in [
            Action::ReadOrgUnits,
            Action::ManageOrgUnits,
            Action::ReadUsers,
            Action::ManageUsers,
        ] {
            assert_eq!(authorize(&admin, action, Some("/c/t/")), Ok(()));
            assert_eq!(authorize(&admin, action, None), Ok(()));
        }
    }

    #[test]
    fn supervisors_reach_their_subtree_only() {
        let sup = actor(Role::Supervisor, Some("/c/t1/"));
        assert_eq!(
            authorize(&sup, Action::ManageUsers, Some("/c/t1/v/")),
            Ok(())
        );
        assert_eq!(authorize(&sup, Action::ManageUsers, Some("/c/t1/")), Ok(()));
        assert_eq!(
            authorize(&sup, Action::ManageUsers, Some("/c/t2/")),
            Err(Denial::Hidden)
        );
        assert_eq!(
            authorize(&sup, Action::ReadUsers, Some("/c/")),
            Err(Denial::Hidden)
        );
        assert_eq!(
            authorize(&sup, Action::ReadUsers, None),
            Err(Denial::Hidden)
        );
        assert_eq!(
            authorize(&sup, Action::ManageOrgUnits, Some("/c/t1/")),
            Err(Denial::Forbidden)
        );
    }

    #[test]
    fn cadres_and_villagers_manage_nothing() {
        for role in [Role::Cadre, Role::Villager] {
            let a = actor(role, Some("/c/t/"));
            for action in [
                Action::ReadOrgUnits,
                Action::ManageOrgUnits,
                Action::ReadUsers,
                Action::ManageUsers,
            ] {
                assert_eq!(authorize(&a, action, Some("/c/t/")), Err(Denial::Forbidden));
            }
        }
    }

    #[test]
    fn cadres_reach_their_own_checkins_only() {
        let cadre = actor(Role::Cadre, Some("/c/t/"));
        assert_eq!(
            reach(&cadre, Action::SubmitCheckins),
            Ok(Reach::Own("u".into()))
        );
        assert_eq!(
            authorize_record(&cadre, Action::ReadCheckins, Some("/c/t/v/"), "u"),
            Ok(())
        );
        assert_eq!(
            authorize_record(&cadre, Action::ReadCheckins, Some("/c/t/v/"), "other"),
            Err(Denial::Hidden)
        );
        assert_eq!(
            reach(&cadre, Action::ReviewCheckins),
            Err(Denial::Forbidden)
        );
        let sup = actor(Role::Supervisor, Some("/c/t/"));
        assert_eq!(reach(&sup, Action::SubmitCheckins), Err(Denial::Forbidden));
        assert_eq!(
            authorize_record(&sup, Action::ReviewCheckins, Some("/c/t/v/"), "x"),
            Ok(())
        );
        assert_eq!(
            authorize_record(&sup, Action::ReviewCheckins, Some("/c/t2/v/"), "x"),
            Err(Denial::Hidden)
        );
        let villager = actor(Role::Villager, Some("/c/t/v/"));
        assert_eq!(
            reach(&villager, Action::ReadCheckins),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            reach(&villager, Action::UploadMedia),
            Ok(Reach::Own("u".into()))
        );
    }

    #[test]
    fn checkins_are_reviewed_in_the_cadres_subtree() {
        let facts = CheckinFacts {
            village_path: "/c/t2/v/",
            cadre_path: Some("/c/t1/"),
            owner: "cadre",
        };
        let own_town = actor(Role::Supervisor, Some("/c/t1/"));
        let village_town = actor(Role::Supervisor, Some("/c/t2/"));
        let elsewhere = actor(Role::Supervisor, Some("/c/t3/"));
        for sup in [&own_town, &village_town] {
            assert_eq!(authorize_checkin(sup, Action::ReadCheckins, &facts), Ok(()));
        }
        assert_eq!(
            authorize_checkin(&own_town, Action::ReviewCheckins, &facts),
            Ok(())
        );
        assert_eq!(
            authorize_checkin(&village_town, Action::ReviewCheckins, &facts),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            authorize_checkin(&elsewhere, Action::ReviewCheckins, &facts),
            Err(Denial::Hidden)
        );
        let own = CheckinFacts {
            owner: "u",
            ..facts
        };
        assert_eq!(
            authorize_checkin(&own_town, Action::ReviewCheckins, &own),
            Err(Denial::Forbidden)
        );
    }

    #[test]
    fn order_parties_by_relation() {
        let order = OrderFacts {
            org_path: "/c/t1/v/",
            unit_id: Some("dept"),
            assignee_id: Some("a"),
            reporter_id: Some("r"),
        };
        let sup = actor(Role::Supervisor, Some("/c/t1/"));
        assert_eq!(order_parties(&sup, &order), vec![Party::Supervisor]);
        let other = actor(Role::Supervisor, Some("/c/t2/"));
        assert!(order_parties(&other, &order).is_empty());
        let mut member = actor(Role::Cadre, Some("/c/dept/"));
        member.org_unit_id = Some("dept".into());
        assert_eq!(order_parties(&member, &order), vec![Party::Assignee]);
        let mut assignee = actor(Role::Cadre, Some("/c/x/"));
        assignee.user_id = "a".into();
        assert_eq!(order_parties(&assignee, &order), vec![Party::Assignee]);
        let mut reporter = actor(Role::Villager, Some("/c/t1/v/"));
        reporter.user_id = "r".into();
        assert_eq!(order_parties(&reporter, &order), vec![Party::Reporter]);
        // A villager of a village unit the order is assigned to does not work on it.
        let mut villager = actor(Role::Villager, Some("/c/t1/v/"));
        villager.org_unit_id = Some("dept".into());
        assert!(order_parties(&villager, &order).is_empty());
        assert_eq!(
            order_parties(&actor(Role::Admin, None), &order),
            vec![Party::Supervisor]
        );
    }

    #[test]
    fn supervisors_cannot_make_supervisors_or_admins() {
        let sup = actor(Role::Supervisor, Some("/c/t/"));
        assert_eq!(may_manage_role(&sup, Role::Cadre), Ok(()));
        assert_eq!(may_manage_role(&sup, Role::Villager), Ok(()));
        assert_eq!(
            may_manage_role(&sup, Role::Supervisor),
            Err(Denial::Forbidden)
        );
        assert_eq!(may_manage_role(&sup, Role::Admin), Err(Denial::Forbidden));
    }

    #[test]
    fn records_are_rectified_by_their_owner_and_verified_within_the_town() {
        let sup = actor(Role::Supervisor, Some("/c/t1/"));
        let cadre = actor(Role::Cadre, Some("/c/t1/v/"));
        let admin = actor(Role::Admin, None);
        for who in [&sup, &cadre] {
            assert_eq!(
                reach(who, Action::RectifyRecords),
                Ok(Reach::Own("u".into()))
            );
        }
        assert_eq!(
            reach(&sup, Action::VerifyRecords),
            Ok(Reach::Subtree("/c/t1/".into()))
        );
        for (who, action) in [
            (&cadre, Action::VerifyRecords),
            (&admin, Action::VerifyRecords),
            (&admin, Action::RectifyRecords),
        ] {
            assert_eq!(reach(who, action), Err(Denial::Forbidden));
        }
    }

    #[test]
    fn sessions_belong_to_the_staff_of_their_town() {
        let cadre = actor(Role::Cadre, Some("/c/t1/d/"));
        let staff = TownStaff {
            actor: &cadre,
            town: Some("/c/t1/"),
            leadership: false,
        };
        assert_eq!(staff.may_organise("/c/t1/"), Ok(()));
        assert_eq!(staff.may_attend("/c/t1/v/"), Ok(()));
        assert_eq!(staff.may_attend("/c/t2/v/"), Err(Denial::Hidden));
        assert_eq!(staff.may_amend("/c/t1/", "u"), Ok(()));
        assert_eq!(staff.may_amend("/c/t1/", "other"), Err(Denial::Forbidden));
        assert_eq!(staff.may_amend("/c/t2/", "other"), Err(Denial::Hidden));

        let sup = actor(Role::Supervisor, Some("/c/t1/"));
        let desk = TownStaff {
            actor: &sup,
            town: Some("/c/t1/"),
            leadership: false,
        };
        assert_eq!(desk.may_amend("/c/t1/v/", "other"), Ok(()));
        assert_eq!(desk.may_attend("/c/t1/v/"), Err(Denial::Forbidden));

        let admin = actor(Role::Admin, None);
        let county = TownStaff {
            actor: &admin,
            town: None,
            leadership: false,
        };
        assert_eq!(county.may_read("/c/t2/"), Ok(()));
        assert_eq!(county.may_organise("/c/t2/"), Err(Denial::Forbidden));
        let villager = actor(Role::Villager, Some("/c/t1/v/"));
        let outsider = TownStaff {
            actor: &villager,
            town: Some("/c/t1/"),
            leadership: false,
        };
        assert_eq!(outsider.may_read("/c/t1/"), Err(Denial::Forbidden));
    }

    #[test]
    fn logs_are_read_by_their_writer_and_the_towns_leaders() {
        let cadre = actor(Role::Cadre, Some("/c/t1/d/"));
        let plain = TownStaff {
            actor: &cadre,
            town: Some("/c/t1/"),
            leadership: false,
        };
        assert_eq!(plain.log_reader("u", "/c/t1/d/"), Ok(LogReader::Writer));
        assert_eq!(plain.log_reader("other", "/c/t1/d/"), Err(Denial::Hidden));
        let leader = TownStaff {
            leadership: true,
            ..plain
        };
        assert_eq!(
            leader.log_reader("other", "/c/t1/v/"),
            Ok(LogReader::Leader)
        );
        assert_eq!(leader.log_reader("other", "/c/t2/v/"), Err(Denial::Hidden));
        let sup = actor(Role::Supervisor, Some("/c/t1/"));
        let desk = TownStaff {
            actor: &sup,
            town: Some("/c/t1/"),
            leadership: false,
        };
        assert_eq!(desk.log_reader("other", "/c/t1/d/"), Ok(LogReader::Leader));
        assert_eq!(desk.log_reader("other", "/c/t2/d/"), Err(Denial::Hidden));
        let admin = actor(Role::Admin, None);
        let county = TownStaff {
            actor: &admin,
            town: None,
            leadership: false,
        };
        assert_eq!(
            county.log_reader("other", "/c/t2/d/"),
            Ok(LogReader::Auditor)
        );
    }
}
