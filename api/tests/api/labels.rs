//! `GET /labels`: the zh-CN words of every machine word, for anyone.

use reqwest::Method;

use crate::helpers::spawn_app;

#[tokio::test]
async fn anyone_reads_the_labels_in_chinese() {
    let app = spawn_app().await;
    let reply = app
        .call(Method::GET, "/labels?lang=zh-CN", None, None)
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.headers["cache-control"], "public, max-age=3600");
    assert_eq!(reply.body["lang"], "zh-CN");
    let labels = &reply.body["labels"];
    assert_eq!(labels["checkin_kind"]["night_visit"], "夜访");
    assert_eq!(labels["work_order_status"]["in_progress"], "办理中");
    assert_eq!(labels["veto_area"]["work_safety"], "安全生产");
    assert_eq!(labels["rater_group"]["middle"], "中层干部");
    assert_eq!(labels["problem"]["422"], "填写有误");
    assert_eq!(labels["field"]["query_code"], "查询码");

    // Every flag the server can raise has its label: the words come from the OpenAPI
    // document's FlagCode, so a new flag without one fails here.
    let doc = app.call(Method::GET, "/openapi.json", None, None).await;
    let codes = doc.body["components"]["schemas"]["FlagCode"]["enum"]
        .as_array()
        .expect("FlagCode is documented as an enum")
        .clone();
    assert!(!codes.is_empty());
    for code in codes {
        let code = code.as_str().unwrap();
        assert!(
            labels["flag"][code].as_str().is_some_and(|l| !l.is_empty()),
            "no label for flag {code}"
        );
    }

    // Without `lang` the same table; the language tag's case does not matter.
    let default = app.call(Method::GET, "/labels", None, None).await;
    assert_eq!(default.status, 200);
    assert_eq!(default.body, reply.body);
    let lower = app
        .call(Method::GET, "/labels?lang=zh-cn", None, None)
        .await;
    assert_eq!(lower.status, 200);
}

#[tokio::test]
async fn other_languages_are_refused_naming_lang() {
    let app = spawn_app().await;
    let reply = app.call(Method::GET, "/labels?lang=en", None, None).await;
    assert_eq!(reply.status, 422, "{:?}", reply.body);
    assert_eq!(reply.error_fields(), vec!["lang"]);
    let unknown = app
        .call(Method::GET, "/labels?language=zh-CN", None, None)
        .await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.error_fields(), vec!["language"]);
}
