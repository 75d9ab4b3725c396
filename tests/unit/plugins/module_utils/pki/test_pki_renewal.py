"""Generated once, read back after; due leaves renewed from the same CA, nothing else touched."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.pki import bundle as bundles
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys, layout, renewal

pytestmark = pytest.mark.vcluster

NOW = datetime.datetime(2026, 1, 15, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
PARAMS = layout.PkiParams(name="demo", namespace="vc-demo")
CA_ENTRIES = {"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd-ca.crt", "etcd-ca.key"}


@pytest.fixture(scope="module")
def stored():
    """The Secret's data after a first run."""
    outcome = renewal.ensure_bundle(None, PARAMS, NOW)
    assert outcome.created and outcome.changed
    return bundles.secret_data(outcome.bundle)


def changed_entries(before, after):
    return {key for key in set(before) | set(after) if before.get(key) != after.get(key)}


def with_leaf(data, leaf_name, issued):
    """data with one pair-stored leaf replaced."""
    return dict(data, **{f"{leaf_name}.crt": certs.cert_pem(issued.cert),
                         f"{leaf_name}.key": keys.private_key_pem(issued.key)})


def rerun(data, params=PARAMS, now=NOW + DAY, **kwargs):
    outcome = renewal.ensure_bundle(data, params, now, **kwargs)
    return outcome, bundles.secret_data(outcome.bundle)


def test_a_rerun_reads_everything_back_and_changes_nothing(stored):
    outcome, data = rerun(stored)
    assert not outcome.created and outcome.renewed == {} and not outcome.changed
    assert data == stored


def test_one_leaf_close_to_expiry_is_renewed_alone_from_the_same_ca(stored):
    loaded = bundles.load_bundle(stored, PARAMS)
    spec = {leaf.name: leaf for leaf in layout.leaves(PARAMS)}["front-proxy-client"].spec
    short = certs.issue(spec, loaded.cas["front-proxy-ca"], NOW, 20 * DAY)
    before = with_leaf(stored, "front-proxy-client", short)

    outcome, after = rerun(before)

    assert outcome.renewed == {"front-proxy-client": renewal.EXPIRING}
    assert changed_entries(before, after) == {"front-proxy-client.crt", "front-proxy-client.key"}
    renewed = certs.load_cert(after["front-proxy-client.crt"], "x")
    renewed.verify_directly_issued_by(certs.load_cert(stored["front-proxy-ca.crt"], "ca"))
    assert certs.remaining(renewed, NOW + DAY) > 300 * DAY


def test_a_year_later_every_leaf_is_renewed_and_no_ca_is(stored):
    outcome, after = rerun(stored, now=NOW + 340 * DAY)
    assert set(outcome.renewed) == set(layout.LEAF_CAS)
    assert set(outcome.renewed.values()) == {renewal.EXPIRING}
    assert not CA_ENTRIES & changed_entries(stored, after)
    assert after["sa.key"] == stored["sa.key"]
    for leaf in layout.leaves(PARAMS):
        assert certs.is_signed_by(outcome.bundle.leaves[leaf.name].cert, outcome.bundle.cas[leaf.ca].cert)


def test_the_threshold_is_configurable(stored):
    eager = renewal.ensure_bundle(stored, PARAMS, NOW + DAY, renew_before=400 * DAY)
    assert set(eager.renewed) == set(layout.LEAF_CAS)
    relaxed = renewal.ensure_bundle(stored, PARAMS, NOW + 340 * DAY, renew_before=10 * DAY)
    assert relaxed.renewed == {}


def test_a_new_extra_host_reissues_the_apiserver_certificate_only(stored):
    params = layout.PkiParams(name="demo", namespace="vc-demo", extra_sans=("vc.example.com",))
    outcome, after = rerun(stored, params=params)
    assert outcome.renewed == {"apiserver": renewal.CHANGED}
    assert changed_entries(stored, after) == {"apiserver.crt", "apiserver.key"}
    assert "vc.example.com" in certs.subject_alt_names(outcome.bundle.leaves["apiserver"].cert)[0]


def test_a_leaf_signed_by_a_foreign_ca_is_reissued(stored):
    foreign = certs.new_ca("etcd-ca", NOW, 3650 * DAY)
    spec = {leaf.name: leaf for leaf in layout.leaves(PARAMS)}["apiserver-etcd-client"].spec
    before = with_leaf(stored, "apiserver-etcd-client", certs.issue(spec, foreign, NOW, 365 * DAY))
    outcome, after = rerun(before)
    assert outcome.renewed == {"apiserver-etcd-client": renewal.WRONG_ISSUER}
    assert certs.is_signed_by(outcome.bundle.leaves["apiserver-etcd-client"].cert, outcome.bundle.cas["etcd-ca"].cert)


def test_missing_and_unreadable_leaves_are_issued_again(stored):
    before = {k: v for k, v in stored.items() if k != "scheduler.conf"}
    before["etcd-peer.crt"] = "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"
    outcome, after = rerun(before)
    assert outcome.renewed == {"etcd-peer": renewal.UNREADABLE, "scheduler": renewal.MISSING}
    assert set(after) == set(stored)
    assert changed_entries(stored, after) == {"etcd-peer.crt", "etcd-peer.key", "scheduler.conf"}


def test_the_service_account_key_is_made_only_when_absent(stored):
    outcome, after = rerun({k: v for k, v in stored.items() if k not in ("sa.key", "sa.pub")})
    assert outcome.renewed == {"sa": renewal.MISSING}
    assert after["sa.pub"] == keys.public_key_pem(keys.load_private_key(after["sa.key"], "sa.key"))
    assert after["sa.key"] != stored["sa.key"]


def test_a_ca_close_to_expiry_is_reported_not_replaced_and_its_capped_leaves_do_not_churn():
    short_ca_params = layout.PkiParams(name="demo", namespace="vc-demo", ca_validity=400 * DAY)
    first = bundles.secret_data(renewal.ensure_bundle(None, short_ca_params, NOW).bundle)
    later = NOW + 380 * DAY

    outcome, renewed_once = rerun(first, params=short_ca_params, now=later)
    assert set(outcome.renewed) == set(layout.LEAF_CAS)
    assert len(outcome.warnings) == 3 and all("not renewed automatically" in w for w in outcome.warnings)
    assert not CA_ENTRIES & changed_entries(first, renewed_once)
    leaf = outcome.bundle.leaves["apiserver"].cert
    assert certs.not_after(leaf) == certs.not_after(outcome.bundle.cas["ca"].cert)

    again, renewed_twice = rerun(renewed_once, params=short_ca_params, now=later + DAY)
    assert again.renewed == {} and renewed_twice == renewed_once
