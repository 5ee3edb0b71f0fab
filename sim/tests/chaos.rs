//! The chaos tests at CI size (full size: `scripts/chaos`): each must keep every promise.

use sim::chaos;
mod common;

use common::{assert_passed, exe, postgres};
use sim::metrics::Timeline;
use sim::scenarios::{HubArgs, Target, rush::RushArgs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_killed_mid_sync_loses_nothing_it_acknowledged() {
    let mut target = Target::open(&HubArgs::default(), &exe()).await.unwrap();
    let args = chaos::hub_kill::HubKillArgs { devices: 6, seconds: 4.0, rate: 10.0, kills: 2, down_ms: 500 };
    let summary =
        chaos::hub_kill::run(&mut target, &args, &Timeline::new(chaos::hub_kill::COUNTERS)).await.unwrap();
    assert_passed(&summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarting_mid_flash_sale_leaves_no_half_made_order_and_no_oversell() {
    let args = chaos::pg_restart::PgRestartArgs { capacity: 600, clients: 16, restarts: 1, down_secs: 11.0 };
    let summary =
        chaos::pg_restart::run(&exe(), &args, &Timeline::new(chaos::pg_restart::COUNTERS)).await.unwrap();
    assert_passed(&summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_split_over_two_hub_instances_converge_and_push_across() {
    let args = RushArgs { gates: 4, tickets: 200, rate: 0.0, offline_gates: 1, copies: 5 };
    let timeline = Timeline::new(sim::scenarios::rush::COUNTERS);
    let summary = chaos::two_instances::run(&exe(), &postgres(), &args, &timeline).await.unwrap();
    assert_passed(&summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clocks_ten_minutes_off_keep_validity_ordering_and_double_admissions() {
    let target = Target::open(&HubArgs::default(), &exe()).await.unwrap();
    let args = chaos::clock_skew::ClockSkewArgs { skew_secs: 600 };
    let summary =
        chaos::clock_skew::run(&target, &args, &Timeline::new(chaos::clock_skew::COUNTERS)).await.unwrap();
    assert_passed(&summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_replaced_one_at_a_time_behind_the_balancer_refuse_and_lose_nothing() {
    // The roll's machinery at CI size, this release to this release (the previous release's
    // binary is built by `scripts/chaos upgrade`, not in CI).
    let args = chaos::upgrade::UpgradeArgs {
        from: exe(),
        instances: 2,
        gates: 2,
        rate: 5.0,
        scan_secs: 20.0,
        clients: 2,
        settle_secs: 1.0,
        step_secs: 2.0,
        grace_secs: 10.0,
    };
    let summary = chaos::upgrade::run(&exe(), &postgres(), &args, &Timeline::new(chaos::upgrade::COUNTERS))
        .await
        .unwrap();
    assert_passed(&summary);
}
