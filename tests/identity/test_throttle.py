"""The sign-in throttle's counts and delays, per address, per account from one address and per account."""

from datetime import UTC, datetime, timedelta

from app.identity import throttle


def fail(db, username, client, now, times=1):
    return [throttle.count_failure(db, username=username, client=client, now=now) for _ in range(times)][-1]


def test_delays_double_after_the_free_failures_up_to_their_cap():
    assert [throttle.delay(throttle.PAIR, n).total_seconds() for n in range(4, 10)] == [0, 0, 1, 2, 4, 8]
    assert throttle.delay(throttle.PAIR, 500) == timedelta(minutes=15)
    assert throttle.delay(throttle.ACCOUNT, 500) == timedelta(minutes=1)


def test_guesses_from_many_addresses_slow_the_account_by_a_minute_at_most(db):
    now = datetime.now(UTC)
    for i in range(200):
        fail(db, "admin", f"10.1.{i // 250}.{i % 250}", now, times=5)
    assert throttle.wait_seconds(db, username="admin", client="10.7.7.7", now=now) == 60
    assert throttle.wait_seconds(db, username="admin", client="10.7.7.7", now=now + timedelta(minutes=1)) == 0


def test_one_address_adds_only_its_free_failures_to_the_account(db):
    now = datetime.now(UTC)
    fail(db, "admin", "10.0.0.66", now, times=40)
    assert throttle.wait_seconds(db, username="admin", client="10.0.0.7", now=now) == 0
    assert throttle.wait_seconds(db, username="admin", client="10.0.0.66", now=now) > 0


def test_a_key_without_a_failure_for_an_hour_is_forgotten(db):
    now = datetime.now(UTC)
    fail(db, "sam", "10.0.0.1", now, times=8)
    later = now + throttle.FORGET + timedelta(seconds=1)
    assert fail(db, "sam", "10.0.0.2", later) == 0
    assert throttle.wait_seconds(db, username="sam", client="10.0.0.1", now=later) == 0
    assert fail(db, "sam", "10.0.0.1", later) == 0, "counting starts again"
