//! Minqing server library: the `minqing` binary and the tests build on it.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod checkins;
pub mod compliance;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod evidence;
pub mod export;
pub mod http;
pub mod jobs;
pub mod media;
pub mod night_sessions;
pub mod outbound;
pub mod pages;
pub mod records;
pub mod scoring;
pub mod startup;
pub mod telemetry;
pub mod villages;
pub mod work_logs;
pub mod work_orders;
