//! 便民联系卡 `/desk/cards`: a printable card for every village in scope — its name and
//! town, the cadres responsible for it with their phones, and a QR code to its village page
//! `/v/{code}`, where villagers report without an account. Six cards to an A4 sheet.

use actix_web::{web, HttpRequest};
use askama::Template;
use minqing_protocol::PublicCadre;
use qrcode::render::svg;
use qrcode::QrCode;
use serde::Deserialize;

use super::{Nav, Staff};
use crate::db::models::OrgUnitRow;
use crate::db::org::{self, OrgUnitFilter};
use crate::db::DbConn;
use crate::domain::access::{reach, Action};
use crate::error::{ApiError, ApiResult};
use crate::http::paging::Paging;
use crate::http::State;
use crate::pages::{ok, PageResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/cards", web::get().to(cards_page));
}

/// Cards on one A4 sheet (two across, three down).
const PER_SHEET: usize = 6;
/// Villages on one page: eight sheets, enough for a town at one go.
const PAGE_SIZE: i64 = 48;

struct VillageCard {
    name: String,
    town: Option<String>,
    code: String,
    url: String,
    /// The QR code as an SVG element; none for a village without a code.
    qr: Option<String>,
    cadres: Vec<PublicCadre>,
}

#[derive(Template)]
#[template(path = "desk/cards.html")]
struct CardsPage {
    nav: Nav,
    sheets: Vec<Vec<VillageCard>>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct CardsQuery {
    cursor: Option<String>,
}

/// A village with its town's name and its cadres (sorted here: the databases' collations
/// order Chinese names differently).
struct Village {
    row: OrgUnitRow,
    town: Option<String>,
    cadres: Vec<PublicCadre>,
}

fn villages_in(
    conn: &mut DbConn,
    within: Option<String>,
    paging: &Paging,
) -> ApiResult<(Vec<Village>, Option<String>)> {
    let rows = org::list(
        conn,
        &OrgUnitFilter {
            kind: Some("village".into()),
            within,
            after: paging.after.clone(),
            limit: paging.fetch(),
            ..OrgUnitFilter::default()
        },
    )?;
    let page = paging.page(rows, |v| v.id.clone());
    let above: Vec<String> = page
        .items
        .iter()
        .flat_map(|v| v.path.split('/').filter(|id| !id.is_empty() && *id != v.id))
        .map(str::to_string)
        .collect();
    let towns: Vec<OrgUnitRow> = org::find_many(conn, &above)?
        .into_iter()
        .filter(|u| u.kind == "town")
        .collect();
    let ids: Vec<String> = page.items.iter().map(|v| v.id.clone()).collect();
    let mut cadres_of = org::cadres_of_villages(conn, &ids)?;
    let villages = page
        .items
        .into_iter()
        .map(|row| {
            let mut cadres = cadres_of.remove(&row.id).unwrap_or_default();
            cadres.sort();
            Ok(Village {
                town: towns
                    .iter()
                    .find(|t| row.path.starts_with(&t.path))
                    .map(|t| t.name.clone()),
                cadres: cadres
                    .into_iter()
                    .map(|(name, phone)| PublicCadre { name, phone })
                    .collect(),
                row,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((villages, page.next_cursor))
}

/// The QR code of `url` as an inline SVG element (without the XML prolog a file would have).
fn qr_svg(url: &str) -> ApiResult<String> {
    let code = QrCode::new(url.as_bytes())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a QR code for {url}: {e}")))?;
    let image = code.render::<svg::Color>().min_dimensions(160, 160).build();
    let start = image.find("<svg").unwrap_or(0);
    Ok(image[start..].replacen(
        "<svg ",
        r#"<svg class="qr" role="img" aria-label="扫码反映问题" "#,
        1,
    ))
}

fn card(v: Village, origin: &str) -> ApiResult<VillageCard> {
    // Codes are letters and digits; anything else is dropped so it can sit in a path.
    let code: String = v
        .row
        .code
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let url = format!("{origin}/v/{code}");
    Ok(VillageCard {
        qr: if code.is_empty() {
            None
        } else {
            Some(qr_svg(&url)?)
        },
        name: v.row.name,
        town: v.town,
        code,
        url,
        cadres: v.cadres,
    })
}

async fn cards_page(
    state: State,
    staff: Staff,
    req: HttpRequest,
    query: web::Query<CardsQuery>,
) -> PageResult {
    let within = reach(&staff.actor, Action::ReadOrgUnits)
        .and_then(|r| r.subtree())
        .map_err(ApiError::from)?;
    let paging = Paging::parse(Some(PAGE_SIZE), query.cursor.as_deref())?;
    let origin = {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    };
    let (villages, next) = state
        .db
        .run(move |conn| villages_in(conn, within, &paging))
        .await?;
    let mut sheets: Vec<Vec<VillageCard>> = Vec::new();
    for village in villages {
        let card = card(village, &origin)?;
        match sheets.last_mut() {
            Some(sheet) if sheet.len() < PER_SHEET => sheet.push(card),
            _ => sheets.push(vec![card]),
        }
    }
    ok(&CardsPage {
        nav: staff.nav("cards"),
        sheets,
        next,
    })
}
