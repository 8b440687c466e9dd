"""The provisioning diff: PPPoE secrets and simple queues, only what wispbill owns."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wispbill.network.provisioning import (
    Change,
    ProvisioningPlan,
    Queue,
    Secret,
    normalise_target,
    plan_provisioning,
)


def _secret(n: int, **kw) -> Secret:
    return Secret(
        **{
            "name": f"user{n}",
            "password": f"pw{n}",
            "remote_address": f"172.16.0.{n}",
            "comment": f"wispbill:client:{n}",
            **kw,
        }
    )


def _queue(n: int, **kw) -> Queue:
    return Queue(
        **{
            "name": f"client-{n}",
            "target": f"172.16.0.{n}/32",
            "max_limit": "2048k/10240k",
            "comment": f"wispbill:client:{n}",
            **kw,
        }
    )


def _plan(secrets=(), queues=(), actual_secrets=(), actual_queues=(), sessions=()):
    return plan_provisioning(
        secrets=secrets,
        queues=queues,
        actual_secrets=actual_secrets,
        actual_queues=actual_queues,
        sessions=sessions,
    )


def test_nothing_to_do_is_an_empty_plan():
    secrets = [_secret(1), _secret(2, disabled=True)]
    queues = [_queue(1), _queue(2)]
    # What a router prints back: ids, the limit in bps, the default profile.
    actual_secrets = [
        Secret(**{**s.__dict__, "id": f"*{i}", "profile": "default"}) for i, s in enumerate(secrets)
    ]
    actual_queues = [
        Queue(**{**q.__dict__, "id": f"*{i}", "max_limit": "2048000/10240000"})
        for i, q in enumerate(queues)
    ]
    plan = _plan(secrets, queues, actual_secrets, actual_queues)
    assert plan == ProvisioningPlan() and plan.empty


def test_an_empty_router_gets_everything_added():
    plan = _plan([_secret(1), _secret(2, disabled=True)], [_queue(1)])
    assert plan.secret_adds == (_secret(1), _secret(2, disabled=True))
    assert plan.queue_adds == (_queue(1),)
    # A secret born disabled has no session yet, but a client may sit on one from before.
    assert plan.drop_sessions == ("user2",)
    assert not plan.secret_sets and not plan.secret_removes and not plan.empty


def test_only_the_fields_that_differ_are_set_by_id():
    plan = _plan(
        [_secret(1, password="new"), _secret(2)],
        [_queue(1, max_limit="4096k/20480k"), _queue(2, target="172.16.0.99")],
        [_secret(1, id="*A"), _secret(2, id="*B", comment="wispbill:client:77")],
        [_queue(1, id="*1"), _queue(2, id="*2", max_limit="2048000/10240k", disabled=True)],
    )
    assert plan.secret_sets == (
        Change("secret", "*A", "user1", "wispbill:client:1", (("password", "new"),)),
        Change("secret", "*B", "user2", "wispbill:client:2", (("comment", "wispbill:client:2"),)),
    )
    assert plan.queue_sets == (
        Change("queue", "*1", "client-1", "wispbill:client:1", (("max-limit", "4096k/20480k"),)),
        Change(
            "queue",
            "*2",
            "client-2",
            "wispbill:client:2",
            (("target", "172.16.0.99"), ("disabled", "no")),
        ),
    )
    assert not plan.secret_adds and not plan.queue_adds and not plan.queue_removes


def test_a_cut_disables_the_secret_and_drops_its_session_reactivation_enables_it():
    cut = _plan(
        [_secret(1, disabled=True), _secret(2)],
        [],
        [_secret(1, id="*1"), _secret(2, id="*2", disabled=True)],
    )
    assert cut.secret_disables == (_secret(1, id="*1"),)
    assert cut.secret_enables == (_secret(2, id="*2", disabled=True),)
    assert cut.drop_sessions == ("user1",)
    assert not cut.secret_sets


def test_a_session_still_up_on_a_disabled_secret_is_dropped_on_every_pass():
    # The secret was disabled by an earlier pass that lost its connection before dropping
    # the session: the session is still there and must go now.
    plan = _plan(
        [_secret(1, disabled=True)],
        [],
        [_secret(1, id="*1", disabled=True)],
        [],
        ["user1", "user9"],
    )
    assert plan.drop_sessions == ("user1",) and not plan.secret_disables
    quiet = _plan(
        [_secret(1, disabled=True)], [], [_secret(1, id="*1", disabled=True)], [], ["user9"]
    )
    assert quiet.empty


def test_owned_objects_no_longer_wanted_and_duplicates_go_others_stay():
    plan = _plan(
        [_secret(1)],
        [_queue(1)],
        [
            _secret(1, id="*1"),
            _secret(1, id="*9"),  # a duplicate left by a router that ignored a query
            _secret(5, id="*5"),  # a client that left
            Secret("admin-link", "x", comment="enlace torre", id="*7"),
            Secret("tecnico", "y", id="*8"),
        ],
        [_queue(1, id="*1"), _queue(3, id="*3"), Queue("total", "10.0.0.0/8", "1G/1G", id="*4")],
    )
    assert plan.secret_removes == (_secret(1, id="*9"), _secret(5, id="*5"))
    assert plan.queue_removes == (_queue(3, id="*3"),)
    assert not plan.secret_adds and not plan.secret_sets and not plan.queue_adds


def test_a_name_held_by_an_object_that_is_not_ours_is_a_conflict_not_an_add():
    theirs_secret = Secret("user1", "old", comment="Juan Pérez", id="*3")
    theirs_queue = Queue("client-1", "172.16.0.1/32", "1M/1M", id="*4")
    plan = _plan([_secret(1), _secret(2)], [_queue(1)], [theirs_secret], [theirs_queue])
    assert plan.secret_adds == (_secret(2),)
    assert not plan.queue_adds and not plan.secret_sets and not plan.queue_sets
    assert plan.conflicts == (theirs_secret, theirs_queue)


def test_desired_names_must_be_unique():
    with pytest.raises(ValueError, match="named 'user1'"):
        _plan([_secret(1), _secret(1, password="other")])


def test_targets_compare_as_routeros_keeps_them():
    assert normalise_target("172.16.0.9") == ("172.16.0.9/32",)
    assert normalise_target("172.16.0.9/32, 10.0.0.0/24") == ("172.16.0.9/32", "10.0.0.0/24")
    assert normalise_target("ether5") == ("ether5",)


def test_a_max_limit_the_router_cannot_parse_is_rewritten():
    plan = _plan([], [_queue(1)], [], [_queue(1, id="*1", max_limit="garbage")])
    assert plan.queue_sets[0].fields == (("max-limit", "2048k/10240k"),)


@given(
    st.sets(st.integers(1, 60), max_size=20),
    st.sets(st.integers(1, 60), max_size=20),
    st.sets(st.integers(1, 60), max_size=20),
)
def test_applying_a_plan_converges(wanted_ids, present_ids, disabled_ids):
    """Applying the plan to the router's objects by hand gives a router whose next plan is
    empty, and objects without the prefix are never in it."""
    desired = [_secret(n, disabled=n in disabled_ids) for n in sorted(wanted_ids)]
    actual = [_secret(n, id=f"*{n}", password="stale") for n in sorted(present_ids)]
    actual.append(Secret("admin", "x", id="*999"))
    plan = _plan(desired, [], actual)
    assert all(s.owned for s in plan.secret_removes)
    removed = {s.id for s in plan.secret_removes}
    router = {s.id: s for s in actual if s.id not in removed}
    for change in plan.secret_sets:
        fields = dict(change.fields)
        old = router[change.id]
        router[change.id] = Secret(
            **{**old.__dict__, "password": fields.get("password", old.password)}
        )
    for secret, disabled in [(s, False) for s in plan.secret_enables] + [
        (s, True) for s in plan.secret_disables
    ]:
        router[secret.id] = Secret(**{**router[secret.id].__dict__, "disabled": disabled})
    for n, secret in enumerate(plan.secret_adds):
        router[f"*new{n}"] = Secret(**{**secret.__dict__, "id": f"*new{n}"})
    assert router["*999"] == Secret("admin", "x", id="*999")
    assert _plan(desired, [], list(router.values())).empty
