//! Tables as diesel sees them; the same on SQLite and PostgreSQL (see migrations/).
//! Timestamps are UTC, stored without a zone on both backends.

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    attempt_tallies (limiter, key) {
        limiter -> Text,
        key -> Text,
        window_start -> Timestamp,
        count -> Integer,
    }
}

diesel::table! {
    org_units (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Text>,
        code -> Nullable<Text>,
        path -> Text,
        boundary -> Nullable<Text>,
        min_lon -> Nullable<Double>,
        min_lat -> Nullable<Double>,
        max_lon -> Nullable<Double>,
        max_lat -> Nullable<Double>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        photo_required_kinds -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        phone -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        org_unit_id -> Nullable<Text>,
        cadre_category -> Nullable<Text>,
        staff_type -> Nullable<Text>,
        rater_group -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        usual_device_id -> Nullable<Text>,
        token_epoch -> Integer,
    }
}

diesel::table! {
    user_villages (user_id, village_id) {
        user_id -> Text,
        village_id -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> org_units (org_unit_id));
diesel::joinable!(user_villages -> users (user_id));
diesel::joinable!(user_villages -> org_units (village_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::table! {
    media (id) {
        id -> Text,
        sha256 -> Text,
        uploader_id -> Nullable<Text>,
        width -> Integer,
        height -> Integer,
        bytes -> BigInt,
        exif_taken_at -> Nullable<Timestamp>,
        exif_lat -> Nullable<Double>,
        exif_lon -> Nullable<Double>,
        created_at -> Timestamp,
        photo_hashes -> Nullable<Text>,
    }
}

diesel::table! {
    checkins (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        village_id -> Text,
        org_path -> Text,
        lat -> Double,
        lon -> Double,
        crs -> Text,
        reported_lat -> Double,
        reported_lon -> Double,
        accuracy_m -> Double,
        recorded_at -> Timestamp,
        received_at -> Timestamp,
        night_date -> Date,
        device_id -> Nullable<Text>,
        mock_location -> Bool,
        note -> Nullable<Text>,
        household -> Nullable<Text>,
        status -> Text,
        flags -> Text,
        request_hash -> Text,
        stay_id -> Nullable<Text>,
        reviewed_by -> Nullable<Text>,
        reviewed_at -> Nullable<Timestamp>,
        review_reason -> Nullable<Text>,
        session_id -> Nullable<Text>,
    }
}

diesel::table! {
    checkin_photos (checkin_id, media_id) {
        checkin_id -> Text,
        media_id -> Text,
        sha256 -> Text,
        hash_high -> Nullable<BigInt>,
        hash_low -> Nullable<BigInt>,
        band0 -> Nullable<Integer>,
        band1 -> Nullable<Integer>,
        band2 -> Nullable<Integer>,
        band3 -> Nullable<Integer>,
        band4 -> Nullable<Integer>,
        band5 -> Nullable<Integer>,
        band6 -> Nullable<Integer>,
        band7 -> Nullable<Integer>,
    }
}

diesel::table! {
    stays (id) {
        id -> Text,
        user_id -> Text,
        village_id -> Text,
        org_path -> Text,
        night_date -> Date,
        start_id -> Text,
        end_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    categories (code) {
        code -> Text,
        name -> Text,
        category_group -> Text,
        default_due_working_days -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Date,
        year -> Integer,
        kind -> Text,
    }
}

diesel::table! {
    work_orders (id) {
        id -> Text,
        code -> Text,
        tracking_token_hash -> Text,
        category -> Text,
        title -> Text,
        description -> Text,
        village_id -> Text,
        org_path -> Text,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        address -> Nullable<Text>,
        source -> Text,
        reporter_id -> Nullable<Text>,
        reporter_name -> Nullable<Text>,
        reporter_phone -> Nullable<Text>,
        created_by -> Nullable<Text>,
        status -> Text,
        resolved_on_spot -> Bool,
        unit_id -> Nullable<Text>,
        assignee_id -> Nullable<Text>,
        commitment -> Nullable<Text>,
        assigned_at -> Nullable<Timestamp>,
        accepted_at -> Nullable<Timestamp>,
        due_at -> Nullable<Timestamp>,
        original_due_at -> Nullable<Timestamp>,
        first_resolved_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        rating -> Nullable<Integer>,
        rated_at -> Nullable<Timestamp>,
        reopen_count -> Integer,
        request_hash -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// More columns of `work_orders`: the table holds 32 columns above, diesel's limit
    /// without its much slower-to-build `64-column-tables` feature.
    #[sql_name = "work_orders"]
    work_order_secrets (id) {
        id -> Text,
        query_code_hash -> Nullable<Text>,
    }
}

diesel::table! {
    /// A supervisor's confirmation of an order resolved on the spot: more columns of
    /// `work_orders`, apart for the same reason as `work_order_secrets`.
    #[sql_name = "work_orders"]
    work_order_confirmations (id) {
        id -> Text,
        confirmed_at -> Nullable<Timestamp>,
        confirmed_by -> Nullable<Text>,
    }
}

diesel::table! {
    work_order_events (id) {
        id -> Text,
        work_order_id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_kind -> Text,
        kind -> Text,
        note -> Nullable<Text>,
        data -> Nullable<Text>,
        photo_ids -> Nullable<Text>,
    }
}

diesel::table! {
    work_order_photos (work_order_id, media_id) {
        work_order_id -> Text,
        media_id -> Text,
    }
}

diesel::table! {
    work_order_extensions (id) {
        id -> Text,
        work_order_id -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        due_at -> Timestamp,
        reason -> Text,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        secret -> Text,
        events -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event -> Text,
        work_order_id -> Text,
        payload -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        delivered_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    work_order_alerts (work_order_id, kind, due_at) {
        work_order_id -> Text,
        kind -> Text,
        due_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    daily_counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    work_order_daily (village_id, day, unit_id, assignee_id) {
        village_id -> Text,
        day -> Date,
        unit_id -> Text,
        assignee_id -> Text,
        assigned -> BigInt,
        accepted_within_24h -> BigInt,
        created -> BigInt,
        created_resolved -> BigInt,
        first_resolved -> BigInt,
        first_resolved_on_time -> BigInt,
        reopened -> BigInt,
        rated -> BigInt,
        rated_satisfied -> BigInt,
        rating_sum -> BigInt,
        overdue_resolved -> BigInt,
        resolution_seconds -> BigInt,
    }
}

diesel::table! {
    work_order_open_due (village_id, due_day, unit_id, assignee_id) {
        village_id -> Text,
        due_day -> Date,
        unit_id -> Text,
        assignee_id -> Text,
        open_orders -> BigInt,
    }
}

diesel::table! {
    scoring_schemes (id) {
        id -> Text,
        name -> Text,
        cadre_category -> Text,
        period_kind -> Text,
        version -> Integer,
        body -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scoring_scheme_versions (scheme_id, version) {
        scheme_id -> Text,
        version -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    scoring_ratings (period, ratee_id, rater_id) {
        period -> Text,
        ratee_id -> Text,
        rater_id -> Text,
        rater_group -> Text,
        score -> Double,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scoring_recusals (rater_id, ratee_id) {
        rater_id -> Text,
        ratee_id -> Text,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    scoring_adjustments (id) {
        id -> Text,
        user_id -> Text,
        period -> Text,
        centipoints -> BigInt,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    manual_values (id) {
        id -> Text,
        user_id -> Text,
        period -> Text,
        code -> Text,
        value -> Double,
        reason -> Text,
        // A JSON array of media ids.
        photo_ids -> Text,
        entered_by -> Text,
        entered_at -> Timestamp,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    scoring_vetoes (id) {
        id -> Text,
        user_id -> Text,
        period -> Text,
        area -> Text,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        withdrawal_reason -> Nullable<Text>,
        withdrawal_requested_by -> Nullable<Text>,
        withdrawal_requested_at -> Nullable<Timestamp>,
        withdrawn_by -> Nullable<Text>,
        withdrawn_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    veto_areas (code) {
        code -> Text,
        name -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    scoring_periods (period) {
        period -> Text,
        closed_at -> Timestamp,
        closed_by -> Text,
    }
}

diesel::table! {
    score_snapshots (period, user_id) {
        period -> Text,
        user_id -> Text,
        cadre_category -> Text,
        scheme_id -> Text,
        scheme_version -> Integer,
        rank -> Integer,
        bottom_streak -> Integer,
        body -> Text,
    }
}

diesel::table! {
    scoring_records (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        period -> Text,
        reason -> Text,
        rectify_by -> Nullable<Date>,
        evidence -> Nullable<Text>,
        cleared_at -> Nullable<Timestamp>,
        cleared_by -> Nullable<Text>,
        created_at -> Timestamp,
        status -> Text,
    }
}

diesel::table! {
    record_events (id) {
        id -> Text,
        record_id -> Text,
        at -> Timestamp,
        actor_id -> Text,
        action -> Text,
        note -> Nullable<Text>,
        evidence -> Nullable<Text>,
        photo_ids -> Nullable<Text>,
    }
}

diesel::table! {
    night_sessions (id) {
        id -> Text,
        kind -> Text,
        place_id -> Text,
        org_path -> Text,
        organiser_id -> Text,
        topic -> Text,
        starts_at -> Timestamp,
        night_date -> Date,
        minutes -> Nullable<Text>,
        minutes_at -> Nullable<Timestamp>,
        villager_names -> Nullable<Text>,
        villager_count -> Nullable<Integer>,
        incomplete_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    night_session_photos (session_id, media_id) {
        session_id -> Text,
        media_id -> Text,
    }
}

diesel::table! {
    work_logs (id) {
        id -> Text,
        user_id -> Text,
        org_path -> Text,
        log_date -> Date,
        content -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    work_log_photos (log_id, media_id) {
        log_id -> Text,
        media_id -> Text,
    }
}

diesel::table! {
    work_log_revisions (id) {
        id -> Text,
        log_id -> Text,
        content -> Text,
        photo_ids -> Text,
        written_at -> Timestamp,
        replaced_at -> Timestamp,
    }
}

diesel::table! {
    work_log_comments (id) {
        id -> Text,
        log_id -> Text,
        author_id -> Text,
        text -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        target_kind -> Text,
        target_id -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::joinable!(work_order_events -> work_orders (work_order_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(work_order_photos -> work_orders (work_order_id));
diesel::joinable!(checkin_photos -> checkins (checkin_id));
diesel::joinable!(checkin_photos -> media (media_id));
diesel::joinable!(score_snapshots -> users (user_id));
diesel::joinable!(record_events -> users (actor_id));
diesel::joinable!(night_session_photos -> night_sessions (session_id));
diesel::joinable!(work_log_photos -> work_logs (log_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    audit_log,
    night_sessions,
    night_session_photos,
    work_logs,
    work_log_photos,
    work_log_revisions,
    work_log_comments,
    org_units,
    users,
    user_villages,
    refresh_tokens,
    media,
    checkins,
    checkin_photos,
    stays,
    categories,
    calendar_days,
    work_orders,
    work_order_events,
    work_order_photos,
    work_order_extensions,
    webhooks,
    webhook_deliveries,
    work_order_alerts,
    daily_counters,
    work_order_daily,
    work_order_open_due,
    scoring_schemes,
    scoring_scheme_versions,
    scoring_ratings,
    scoring_recusals,
    scoring_adjustments,
    manual_values,
    scoring_vetoes,
    veto_areas,
    scoring_periods,
    score_snapshots,
    scoring_records,
    record_events,
);
