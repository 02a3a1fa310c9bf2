//! nanbyo-accounts: the account authority of a hospital's on-premises 難病・小慢DB installation.
//!
//! Layers, from the ground up: [`domain`] (rules, no I/O) → [`store`] (all SQL) → [`service`] (the
//! operations, shared by the web and the console) → [`web`] (one module per screen) → [`cli`] (startup).

pub mod cli;
pub mod config;
pub mod domain;
pub mod import;
pub mod mail;
pub mod pdf;
pub mod report;
pub mod service;
pub mod store;
pub mod web;
