//! HTTP integration tests: every test starts the real application with a database of its
//! own (SQLite, or PostgreSQL when MINQING_TEST_POSTGRES is set) and drives it over HTTP.

mod audit;
mod auth;
mod authorization;
mod browsing;
mod categories;
mod checkins;
mod demo;
mod desk_approvals;
mod desk_nights;
mod desk_orders;
mod desk_records;
mod desk_reports;
mod desk_review;
mod errors;
mod evidence;
mod hardening;
mod helpers;
mod labels;
mod manual_values;
mod media;
mod migrations;
mod ops;
mod org_units;
mod pages;
mod public;
mod scoring;
mod scoring_process;
mod scoring_rules;
mod scoring_views;
mod sessions;
mod system;
mod users;
mod vetoes;
mod webhooks;
mod work_orders;
