//! A browser without JavaScript for the page tests: it shows redirects instead of following
//! them, keeps no cookies of its own (a test passes the session it signed in with), and reads
//! pages the way a person does (the visible text, an element's text).

use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

use crate::helpers::TestApp;

/// Where the pages are: the API's base without `/api/v1`.
pub fn origin(app: &TestApp) -> String {
    app.base.trim_end_matches("/api/v1").to_string()
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// What came back: the status, where it redirects to, the content type and the body.
pub struct Answer {
    pub status: u16,
    pub location: String,
    pub kind: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn html(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn answer(reply: reqwest::Response) -> Answer {
    let header = |name| {
        reply
            .headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (location, kind) = (header(LOCATION), header(CONTENT_TYPE));
    Answer {
        status: reply.status().as_u16(),
        location,
        kind,
        body: reply.bytes().await.unwrap().to_vec(),
    }
}

/// GET `path` with the session cookie `session` (`mq_session=…`), if any.
pub async fn get(app: &TestApp, session: Option<&str>, path: &str) -> Answer {
    let mut request = browser().get(format!("{}{path}", origin(app)));
    if let Some(cookie) = session {
        request = request.header("cookie", cookie);
    }
    answer(request.send().await.unwrap()).await
}

/// Posts a form to `path` with the session cookie, if any.
pub async fn post(
    app: &TestApp,
    session: Option<&str>,
    path: &str,
    fields: &[(&str, &str)],
) -> Answer {
    let mut request = browser()
        .post(format!("{}{path}", origin(app)))
        .form(fields);
    if let Some(cookie) = session {
        request = request.header("cookie", cookie);
    }
    answer(request.send().await.unwrap()).await
}

/// Signs in through the sign-in form; the `mq_session` cookie to send with later requests.
pub async fn sign_in(app: &TestApp, phone: &str, password: &str) -> String {
    let reply = browser()
        .post(format!("{}/login", origin(app)))
        .form(&[("phone", phone), ("password", password), ("next", "/desk/")])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 303, "sign-in of {phone}");
    reply
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("mq_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string()
}

/// What a person reads: the page without its tags.
pub fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// The text between `<… id="{id}" …>` and the next `<`.
pub fn text_of(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    Some(rest[start..end].trim().to_string())
}
